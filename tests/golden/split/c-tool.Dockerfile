# Build stage: compilers and headers build the program; it does not ship.
FROM debian:bookworm AS build

RUN apt-get update && apt-get install -y gcc make libc6-dev
COPY . /src
WORKDIR /src
RUN make && cp wordcount /usr/local/bin/
RUN set -eu; \
    mkdir -p /runtime-root; \
    bin="$(command -v wordcount)"; \
    for f in "$bin" $(ldd "$bin" | grep -o "/[^ ]*" || true); do \
        dir="$(realpath "$(dirname "$f")")"; \
        cp -P --parents "$dir/$(basename "$f")" /runtime-root/; \
        cp --parents "$(realpath "$f")" /runtime-root/; \
    done

# Runtime stage: the program and the shared libraries it links, nothing else.
FROM debian:bookworm-slim
WORKDIR /src
COPY --from=build /runtime-root/ /

ENTRYPOINT ["wordcount"]
