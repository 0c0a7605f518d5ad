// GraphiQL for the Group Analyst API, bundled by our own build and served at GET /graphql:
// nothing is loaded from a CDN. Headers (where a bearer token goes) stay in memory unless the
// user turns on "Persist headers" in the settings; subscriptions send them over a WebSocket
// to the same origin (fetcher.ts).
import { GraphiQL } from "graphiql";
import "graphiql/setup-workers/vite";
import "graphiql/style.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createFetcher } from "./fetcher";
import { STARTER_QUERY } from "./starter";

const fetcher = createFetcher(window.location);

createRoot(document.getElementById("graphiql")!).render(
  <StrictMode>
    <GraphiQL
      fetcher={fetcher}
      defaultQuery={STARTER_QUERY}
      defaultHeaders="{}"
      shouldPersistHeaders={false}
      showPersistHeadersSettings
      isHeadersEditorEnabled
      defaultEditorToolsVisibility="headers"
    >
      <GraphiQL.Logo>Group Analyst API</GraphiQL.Logo>
    </GraphiQL>
  </StrictMode>,
);
