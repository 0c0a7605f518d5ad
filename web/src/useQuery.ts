// Run a typed operation when its variables change; loading, error and data for the view.
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, request } from "./api";
import type { TypedDocumentString } from "./gql/graphql";

export type QueryState<T> = {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
};

export function useQuery<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
): QueryState<TResult> {
  const key = JSON.stringify(variables);
  const [state, setState] = useState<{ data: TResult | null; error: ApiError | null; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  });
  const [generation, setGeneration] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const run = ++latest.current;
    setState((previous) => ({ ...previous, loading: true, error: null }));
    const call = request as (d: typeof document, v: TVariables) => Promise<TResult>;
    call(document, JSON.parse(key) as TVariables).then(
      (data) => run === latest.current && setState({ data, error: null, loading: false }),
      (error: unknown) =>
        run === latest.current &&
        setState({
          data: null,
          error: error instanceof ApiError ? error : new ApiError(String(error), "INTERNAL_SERVER_ERROR"),
          loading: false,
        }),
    );
  }, [document, key, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...state, reload };
}

/** Call a mutation with typed variables (the same client as queries). */
export function mutate<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
): Promise<TResult> {
  const call = request as (d: typeof document, v: TVariables) => Promise<TResult>;
  return call(document, variables);
}
