FROM python:3.12-slim

RUN apt-get update
RUN apt-get install -y build-essential curl git

WORKDIR /app
COPY . .
RUN pip install -r requirements.txt

ENV API_TOKEN=s3cr3t-t0ken-9f8e7d6c5b4a
EXPOSE 8000
CMD ["python", "app.py"]
