# Builds demandscreend and demandscreen into a small runtime image.
#   docker build -t demandscreen .
#   docker run -p 7443:7443 -v demandscreen-data:/var/lib/demandscreen demandscreen
# The embedded default's development certificate names only localhost and 127.0.0.1; give a
# production container its own certificate (tls.certificate / tls.privateKey) and tokens.
FROM swift:6.2-bookworm AS build
WORKDIR /src
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libmecab-dev mecab-ipadic-utf8 libstemmer-dev \
 && rm -rf /var/lib/apt/lists/*
COPY . .
RUN swift build -c release --static-swift-stdlib --product demandscreend \
 && swift build -c release --static-swift-stdlib --product demandscreen \
 && mkdir -p /out \
 && cp .build/release/demandscreend .build/release/demandscreen /out/ \
 && cp -R .build/release/DemandScreen_ScreeningEngine.resources .build/release/DemandScreen_ResponseTemplates.resources /out/

FROM debian:bookworm-slim
# The judgment's runtime: MeCab with IPADIC (read from /var/lib/mecab/dic/ipadic-utf8) and libstemmer.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libmecab2 mecab-ipadic-utf8 libstemmer0d \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/demandscreen demandscreen \
 && mkdir -p /var/lib/demandscreen && chown demandscreen /var/lib/demandscreen
COPY --from=build /out/ /opt/demandscreen/bin/
USER demandscreen
ENV DEMANDSCREEN_DATA_DIRECTORY=/var/lib/demandscreen
EXPOSE 7443
ENTRYPOINT ["/opt/demandscreen/bin/demandscreend", "--host", "0.0.0.0"]
