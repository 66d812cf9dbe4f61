# Development image: the single-stage build, with devDependencies and build tools.
# The production image is built by the multi-stage Dockerfile.
FROM node:20

WORKDIR /usr/src/app
COPY . .
RUN npm install
RUN chown -R node:node /usr/src/app

EXPOSE 3000
CMD ["npm", "start"]
