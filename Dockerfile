# The gateway (and `fcgw simulate`) as an image. The TypeScript is compiled once here into dist/
# (bin/build.js, as `npm start` does on its first run), so the container runs plain JavaScript.
# Used by docker-compose.yml.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
# better-sqlite3 downloads a prebuilt binary; the compilers are only its fallback (other CPUs).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
# glibc keeps freed memory in one arena per thread and raises its mmap threshold after the first
# large free, so the 16 MB scrypt buffers of broker logins (libuv's pool threads) stayed resident:
# +160 MB under a login flood against +90 MB with these (npm run bench flood).
ENV MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY bin ./bin
COPY gateway ./gateway
COPY drivers ./drivers
COPY simulators ./simulators
COPY config ./config
# The simulators service's config and scenario (docker-compose.yml).
COPY deploy/simulators ./deploy/simulators
# Compiled as root at build time: the unprivileged user cannot write /app, and need not.
RUN node bin/build.js
# The store (and a generated site secret) live on a volume owned by the unprivileged user.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 8080
# /api/health needs the bearer token once the API listens off loopback.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:8080/api/health',{headers:{authorization:'Bearer '+(process.env.FCGW_API_TOKEN||'')}}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/fcgw.js"]
CMD ["start", "-c", "config/docker.yaml"]
