// Node transports (connect-node): Connect (HTTP/1.1 or 2), gRPC and gRPC-Web
// over HTTP/2; the coordinator serves all three on one h2c port.
import { Http2SessionManager, createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { LightkeeperClient } from "./client.js";

export type Protocol = "connect" | "grpc" | "grpc-web";

/** A client over one HTTP/2 connection (h2c for http:// URLs); close() ends it. */
export function connectNode(baseUrl: string, protocol: Protocol = "connect"): LightkeeperClient {
  const sessionManager = new Http2SessionManager(baseUrl);
  const opts = { baseUrl, httpVersion: "2" as const, sessionManager };
  const t =
    protocol === "grpc" ? createGrpcTransport(opts) : protocol === "grpc-web" ? createGrpcWebTransport(opts) : createConnectTransport(opts);
  return new LightkeeperClient(t, () => sessionManager.abort());
}

export * from "./index.js";
