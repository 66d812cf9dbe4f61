# Build stage: the Go toolchain compiles the program; it does not ship.
FROM golang:latest AS build

WORKDIR /go/src/app
COPY . .
ENV CGO_ENABLED=0
RUN go build -o /usr/local/bin/service .

# Runtime stage: the static binary and the few files it reads, nothing else.
FROM scratch

WORKDIR /go/src/app
COPY --from=build /usr/local/bin/service /usr/local/bin/service

EXPOSE 8080
CMD ["/usr/local/bin/service"]
