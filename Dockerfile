# Multi-stage, non-root image on a current Node LTS. One image runs any app:
#   default: all three (gateway, admin, worker) -> node dist/apps/main.js
#   split:   node dist/apps/gateway/main.js | dist/apps/admin/main.js | dist/apps/worker/main.js
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json .swcrc nest-cli.json ./
COPY apps apps
COPY libs libs
COPY tools tools
COPY migrations migrations
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules node_modules
COPY --from=build --chown=node:node /app/dist dist
COPY --chown=node:node package.json ./
COPY --chown=node:node catalog catalog
USER node
EXPOSE 4000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/apps/main.js"]
