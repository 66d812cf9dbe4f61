FROM debian:bookworm-slim

RUN apt-get update && apt-get install -y gcc make libc6-dev
COPY . /src
WORKDIR /src
RUN make && cp wordcount /usr/local/bin/
RUN apt-get purge -y gcc make

ENTRYPOINT ["wordcount"]
