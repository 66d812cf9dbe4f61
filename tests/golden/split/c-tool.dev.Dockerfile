# Development image: the single-stage build, with compilers and headers kept.
# The production image is built by the multi-stage Dockerfile.
FROM debian:bookworm

RUN apt-get update && apt-get install -y gcc make libc6-dev
COPY . /src
WORKDIR /src
RUN make && cp wordcount /usr/local/bin/

ENTRYPOINT ["wordcount"]
