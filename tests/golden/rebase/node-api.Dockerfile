FROM node:20-slim

WORKDIR /usr/src/app
COPY . .
RUN npm install
RUN chown -R node:node /usr/src/app

EXPOSE 3000
CMD ["npm", "start"]
