# Build the gateway and the agent as two plain executables, the container image, or run the tests.
#   make all                 bin/server (gateway, single-file self-contained) and bin/client (agent, Native AOT)
#   make all RID=linux-arm64 the same for arm64 (the agent then needs clang gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
#   make docker              the image synapse:$(VERSION)
#   make test                every test, as CI runs them
#   make chart-check         only the Helm chart checks

# One version for the product: the one Directory.Build.props gives the assemblies.
VERSION := $(shell sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)
RID ?= linux-x64
IMAGE ?= synapse
CONFIGURATION ?= Release
PUBLISH := artifacts/publish/$(RID)

DOTNET ?= dotnet
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1

# Rebuild when any source, project or embedded file (status page, install script) changes; dotnet itself decides what
# to recompile.
SOURCES := $(shell find Synapse.Silo Synapse.Grains Synapse.Grains.Interfaces Synapse.Protocol Synapse.Client \
             \( -name bin -o -name obj \) -prune -o -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.json' \
             -o -name '*.html' -o -name '*.js' -o -name '*.css' -o -name '*.sh' \) -print) \
           Directory.Build.props Directory.Packages.props global.json

.PHONY: all server client docker test chart-check clean help
# Both publishes build Synapse.Protocol into the same obj/ folder: never at the same time.
.NOTPARALLEL:
.DEFAULT_GOAL := all

all: bin/server bin/client

server: bin/server
client: bin/client

# Switching RID must rebuild both files: they depend on a stamp naming the current one.
RID_STAMP := artifacts/.rid-$(RID)
$(RID_STAMP):
	@mkdir -p artifacts && rm -f artifacts/.rid-* && touch $@

# The gateway as one self-contained file (no .NET runtime needed on the host); native libraries are bundled too.
bin/server: $(SOURCES) $(RID_STAMP)
	$(DOTNET) publish Synapse.Silo/Synapse.Silo.csproj -c $(CONFIGURATION) -r $(RID) --self-contained \
	  -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true -p:DebugType=none \
	  -o $(PUBLISH)/server
	@mkdir -p bin
	cp $(PUBLISH)/server/Synapse.Silo bin/server

# The agent: its csproj turns on Native AOT when a runtime identifier is given. Only the executable ships.
bin/client: $(SOURCES) $(RID_STAMP)
	$(DOTNET) publish Synapse.Client/Synapse.Client.csproj -c $(CONFIGURATION) -r $(RID) -o $(PUBLISH)/client
	@mkdir -p bin
	cp $(PUBLISH)/client/synapse-client bin/client

docker:
	docker build --build-arg VERSION=$(VERSION) -t $(IMAGE):$(VERSION) .

test:
	bash .ci/run

chart-check:
	bash .ci/chart-check.sh

clean:
	rm -rf bin artifacts/publish artifacts/.rid-*

help:
	@sed -n 's/^#   //p' Makefile
