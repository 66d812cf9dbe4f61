# Development image: the single-stage build, with the Go toolchain.
# The production image is built by the multi-stage Dockerfile.
FROM golang:latest

WORKDIR /go/src/app
COPY . .
RUN go build -o /usr/local/bin/service .

EXPOSE 8080
CMD ["service"]
