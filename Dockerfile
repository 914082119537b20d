# One image for every process; the command picks the mode (all | api | scheduler | volume).
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends coreutils openssh-client && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-fund --no-audit
COPY . .
ENTRYPOINT ["npx", "tsx", "main/index.ts"]
CMD ["all", "--config", "/etc/cinder/cinder.conf"]
