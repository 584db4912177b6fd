# Meltemi as a container image: `docker build -t meltemi .` (or `buildah bud`, `podman build`).
#
#   docker run -v $PWD/bootstrap.yaml:/etc/meltemi/bootstrap.yaml meltemi
#
# Stage 1 compiles the TypeScript and the original-destination addon (SO_ORIGINAL_DST,
# IP_TRANSPARENT) and packs the npm tarball; stage 2 installs only that
# tarball's production dependencies, the same tree test/e2e/runtime-tree.image.test.ts builds
# and runs without an image. The process runs as uid 1337, like Istio's istio-proxy.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# The original-destination addon (native/original-dst, transparent interception) is compiled
# here; the runtime stage gets only the .node file inside the packed tarball, no compiler.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 make g++ >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# --ignore-scripts: the "prepare" script would compile before the sources are copied.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npx tsc -p tsconfig.json && node scripts/build-native.mjs --strict && mkdir /pack && npm pack --ignore-scripts --pack-destination /pack \
 && mv /pack/meltemi-*.tgz /pack/meltemi.tgz

FROM ${NODE_IMAGE} AS runtime
WORKDIR /opt/meltemi
COPY --from=build /pack/meltemi.tgz /tmp/meltemi.tgz
RUN npm install --omit=dev --ignore-scripts --no-audit --no-fund --no-package-lock /tmp/meltemi.tgz \
 && rm /tmp/meltemi.tgz && npm cache clean --force \
 && ln -s /opt/meltemi/node_modules/meltemi/dist/proxy/cli.js /usr/local/bin/meltemi \
 && groupadd --gid 1337 istio-proxy \
 && useradd --uid 1337 --gid 1337 --no-create-home --shell /usr/sbin/nologin istio-proxy \
 && mkdir -p /etc/meltemi
ENV NODE_ENV=production \
    MELTEMI_READY_URL=http://127.0.0.1:15000/ready
USER 1337:1337
# The admin's /ready (admin.address in the bootstrap; set MELTEMI_READY_URL to match it).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "require('node:http').get(process.env.MELTEMI_READY_URL, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"]
# Exec form: node is PID 1 and gets SIGTERM itself; Meltemi drains on it and exits.
ENTRYPOINT ["node", "/opt/meltemi/node_modules/meltemi/dist/proxy/cli.js"]
CMD ["-c", "/etc/meltemi/bootstrap.yaml"]
