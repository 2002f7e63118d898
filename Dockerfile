# syncnode relay image: `docker build -t syncnode .`
#
#   docker run -d --name relay -v syncnode-relay:/data \
#     -p 4001:4001 -p 8080:8080 -e SYNCNODE_JOIN=<relay code> syncnode
#   docker exec relay syncnode relay token create --name laptop
#   docker exec relay syncnode relay addr
#
# Every flag reads SYNCNODE_<FLAG>, so the relay is configured with -e.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=docker
# Static: no cgo, so the distroless static base has all it needs.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" \
        -o /out/syncnode ./cmd/syncnode \
    && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/syncnode /usr/local/bin/syncnode
# The data volume belongs to the image's non-root user (65532).
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV SYNCNODE_DATA=/data \
    SYNCNODE_LISTEN=/ip4/0.0.0.0/tcp/4001 \
    SYNCNODE_HTTP=0.0.0.0:8080
VOLUME ["/data"]
# 4001: libp2p (devices, circuit relay); 8080: HTTP sync for thin clients.
EXPOSE 4001 8080
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/syncnode", "health"]
ENTRYPOINT ["/usr/local/bin/syncnode"]
CMD ["relay"]
