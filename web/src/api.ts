// The GraphQL client: plain fetch of typed operations (GraphQL Code Generator's
// TypedDocumentString), the bearer token from the tab's session, errors by `extensions.code`.
import type { TypedDocumentString } from "./gql/graphql";
import { session } from "./session";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

type ErrorBody = {
  message?: string;
  extensions?: { code?: string; field?: string };
};

/** Called when the server refuses our token (expired or revoked): back to sign-in. */
let onUnauthenticated: (message: string) => void = () => {};
export function setUnauthenticatedHandler(handler: (message: string) => void): void {
  onUnauthenticated = handler;
}

export function firstError(errors: ErrorBody[] | undefined): ApiError | null {
  const error = errors?.[0];
  if (!error) return null;
  return new ApiError(
    error.message ?? "The request failed.",
    error.extensions?.code ?? "INTERNAL_SERVER_ERROR",
    error.extensions?.field,
  );
}

export async function request<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  ...[variables]: TVariables extends Record<string, never> ? [] : [TVariables]
): Promise<TResult> {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    Accept: "application/json",
  };
  const token = session.token();
  if (token) headers.Authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers,
      body: JSON.stringify({ query: document.toString(), variables: variables ?? {} }),
    });
  } catch {
    throw new ApiError("The server cannot be reached. Check your connection and try again.", "NETWORK");
  }
  let body: { data?: TResult | null; errors?: ErrorBody[] };
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`The server answered ${response.status} without data.`, "INTERNAL_SERVER_ERROR");
  }
  const error = firstError(body.errors);
  if (error?.code === "UNAUTHENTICATED" && token) {
    session.clear();
    onUnauthenticated("Your session has ended. Please sign in again.");
  }
  if (error) throw error;
  if (!body.data) throw new ApiError("The server answered without data.", "INTERNAL_SERVER_ERROR");
  return body.data;
}
