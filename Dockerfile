# The SMTP prober (src/prober/) as a container, for a host with outbound port 25 open.
#   docker build -t mailvet-prober .
#   docker run -d -p 8025:8025 -e PROBER_SECRET=… -e SMTP_HELO_NAME=verify.example.com \
#     -e SMTP_MAIL_FROM=probe@verify.example.com mailvet-prober
# Configuration is by environment only (README, "The SMTP prober").

# Build: bundle the prober's TypeScript into one ES module; packages stay external.
FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build:prober

# Production dependencies only: no compiler, no test tools.
FROM node:22-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:22-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8025
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist/prober.mjs ./dist/prober.mjs
COPY --chown=root:root package.json ./
# The image's own unprivileged user: it cannot change the code it runs.
USER node
EXPOSE 8025
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8025)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/prober.mjs"]
