// Browser transports (connect-web, fetch): Connect or gRPC-Web.
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { LightkeeperClient } from "./client.js";

export function connectWeb(baseUrl: string, protocol: "connect" | "grpc-web" = "connect"): LightkeeperClient {
  const t = protocol === "grpc-web" ? createGrpcWebTransport({ baseUrl }) : createConnectTransport({ baseUrl });
  return new LightkeeperClient(t);
}

export * from "./index.js";
