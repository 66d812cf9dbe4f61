# Build stage: install and build with every dependency; only the app directory ships.
FROM node:20 AS build

WORKDIR /usr/src/app
COPY . .
RUN npm install
RUN npm prune --omit=dev

# Runtime stage: the application and its production dependencies only.
FROM node:20-slim

WORKDIR /usr/src/app
COPY --from=build --chown=node:node /usr/src/app /usr/src/app
RUN chown node:node /usr/src/app

EXPOSE 3000
CMD ["npm", "start"]
