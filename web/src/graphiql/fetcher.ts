// GraphiQL's fetcher: queries and mutations go over HTTP (POST /graphql); subscriptions go over
// a WebSocket to the same origin (graphql-transport-ws, `ws:` or `wss:` as the page), one
// connection per subscription. A browser cannot set headers on a WebSocket, so the Headers
// pane, as typed ({"Authorization": "Bearer ga_..."}), becomes the `connection_init` payload,
// where the server reads the token. No reconnecting: when the server ends the stream (a bad
// token, access ended) GraphiQL shows its close code and reason instead of retrying quietly.
import { createGraphiQLFetcher, type Fetcher, type FetcherParams } from "@graphiql/toolkit";
import { type DocumentNode, type ExecutionResult, type FormattedExecutionResult, getOperationAST } from "graphql";
import { createClient } from "graphql-ws";

export function subscriptionUrl(location: Pick<Location, "protocol" | "host">): string {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/graphql`;
}

export function isSubscription(document: DocumentNode | undefined, operationName?: string | null): boolean {
  return document !== undefined && getOperationAST(document, operationName ?? undefined)?.operation === "subscription";
}

interface CloseLike {
  code: number;
  reason: string;
}

function isClose(value: unknown): value is CloseLike {
  return typeof value === "object" && value !== null && "code" in value && "reason" in value;
}

// What the server ended a subscription with, shown in GraphiQL's result pane as errors.
export function endedWith(error: unknown): FormattedExecutionResult {
  if (Array.isArray(error)) return { errors: error }; // the protocol's `error` message
  if (isClose(error)) {
    const reason = error.reason || "no reason given";
    return {
      errors: [
        { message: `The server closed the subscription (${error.code}): ${reason}`, extensions: { closeCode: error.code } },
      ],
    };
  }
  return { errors: [{ message: "Could not open the subscription's WebSocket: is the server reachable?" }] };
}

// GraphiQL only shows results as JSON: the server's formatted errors stand for GraphQLErrors.
async function* subscribe(
  url: string,
  params: FetcherParams,
  headers: Record<string, unknown>,
): AsyncGenerator<ExecutionResult> {
  const client = createClient({ url, connectionParams: headers, lazy: true, retryAttempts: 0 });
  try {
    for await (const result of client.iterate({
      query: params.query,
      operationName: params.operationName ?? undefined,
      variables: params.variables,
    })) {
      yield result as ExecutionResult;
    }
  } catch (error) {
    yield endedWith(error) as ExecutionResult;
  } finally {
    await client.dispose();
  }
}

export function createFetcher(location: Pick<Location, "protocol" | "host">): Fetcher {
  const http = createGraphiQLFetcher({ url: "/graphql" });
  const url = subscriptionUrl(location);
  return (params, options) =>
    isSubscription(options?.documentAST, params.operationName)
      ? subscribe(url, params, options?.headers ?? {})
      : http(params, options);
}
