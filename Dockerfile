# syntax=docker/dockerfile:1
# The Synapse gateway image: the gateway, plus the agent executables it hands out on /getclient and /run.
# Build from the repository root (`make docker` does this):
#   docker build -t synapse:0.1.0 .
#   docker build --build-arg CLIENT_RIDS=linux-x64 -t synapse:0.1.0 .   # x64 agent only: no cross toolchain
#   docker buildx build --platform linux/amd64,linux/arm64 -t REGISTRY/synapse:0.1.0 --push .

# The build stage runs on the builder's own platform: the gateway is published as portable IL and the agents are
# cross-compiled, so a multi-platform build compiles everything once and natively fast (no emulation).
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG CLIENT_RIDS="linux-x64 linux-arm64"

# Native AOT links with clang (and zlib). Linking for the other architecture also needs its gcc cross toolchain
# and libc, which clang finds by itself.
RUN set -eux; \
    cross=""; \
    for rid in $CLIENT_RIDS; do \
      case "$(dpkg --print-architecture):$rid" in \
        amd64:linux-arm64) cross="$cross gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross" ;; \
        arm64:linux-x64) cross="$cross gcc-x86-64-linux-gnu binutils-x86-64-linux-gnu libc6-dev-amd64-cross" ;; \
      esac; \
    done; \
    apt-get update; \
    apt-get install -y --no-install-recommends clang zlib1g-dev $cross; \
    rm -rf /var/lib/apt/lists/*

ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
WORKDIR /src

# Restore from the project files alone, so that editing a .cs file does not download the packages again.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY Synapse.Protocol/Synapse.Protocol.csproj Synapse.Protocol/
COPY Synapse.Grains.Interfaces/Synapse.Grains.Interfaces.csproj Synapse.Grains.Interfaces/
COPY Synapse.Grains/Synapse.Grains.csproj Synapse.Grains/
COPY Synapse.Silo/Synapse.Silo.csproj Synapse.Silo/
COPY Synapse.Client/Synapse.Client.csproj Synapse.Client/
# One restore per agent platform: each pulls that platform's AOT compiler and runtime pack into the cache.
RUN set -eux; \
    dotnet restore Synapse.Silo/Synapse.Silo.csproj; \
    for rid in $CLIENT_RIDS; do dotnet restore Synapse.Client/Synapse.Client.csproj -r "$rid"; done

COPY . .

# Framework-dependent and RID-less: the same output runs on every platform the final image is built for.
RUN dotnet publish Synapse.Silo/Synapse.Silo.csproj -c Release -o /out/gateway -p:UseAppHost=false -p:DebugType=none

# The agents, laid out as the gateway's --client-binary folder expects: clients/<rid>/synapse-client.
# Only the executable ships (no .pdb or .dbg).
RUN set -eux; \
    for rid in $CLIENT_RIDS; do \
      dotnet publish Synapse.Client/Synapse.Client.csproj -c Release -r "$rid" -o "/out/publish/$rid"; \
      install -D -m 0755 "/out/publish/$rid/synapse-client" "/out/clients/$rid/synapse-client"; \
    done

# Not the chiseled variant: on clusters before Kubernetes 1.30 the chart's preStop hook execs `sleep`, and a shell
# helps `kubectl exec` debugging; a chiseled image has neither.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS final
ARG VERSION=dev
LABEL org.opencontainers.image.title="synapse" \
      org.opencontainers.image.description="OpenAI-compatible gateway for self-hosted LLM servers" \
      org.opencontainers.image.version="$VERSION" \
      org.opencontainers.image.licenses="MIT"

WORKDIR /app
COPY --from=build /out/gateway/ ./
COPY --from=build /out/clients/ ./clients/

# ASPNETCORE_HTTP_PORTS is emptied because the gateway binds SYNAPSE_HOST:SYNAPSE_PORT itself (else ASP.NET warns
# that it overrides it).
ENV SYNAPSE_HOST=0.0.0.0 \
    SYNAPSE_PORT=8080 \
    SYNAPSE_CLIENT_BINARY=/app/clients \
    ASPNETCORE_HTTP_PORTS=

# HTTP (API, /ws, status, metrics, probes), Orleans silo-to-silo, Orleans client gateway.
EXPOSE 8080 11111 30000

# APP_UID (1654) is the unprivileged user the .NET images define.
USER $APP_UID
ENTRYPOINT ["dotnet", "Synapse.Silo.dll"]
