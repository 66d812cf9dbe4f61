# Build stage: the original image, with its compilers and headers; it does not ship.
FROM python:3.12 AS build

RUN apt-get update
RUN apt-get install -y build-essential curl git

WORKDIR /app
COPY . .
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH
RUN pip install -r requirements.txt

# Runtime stage: the virtualenv and the application, without compilers or headers.
FROM python:3.12-slim

WORKDIR /app
COPY . .
COPY --from=build /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH

ENV API_TOKEN=s3cr3t-t0ken-9f8e7d6c5b4a
EXPOSE 8000
CMD ["python", "app.py"]
