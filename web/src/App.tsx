import { useCallback, useEffect, useState } from "react";
import { ApiError, request, setUnauthenticatedHandler } from "./api";
import { ErrorNote, Loading } from "./components/States";
import { LogoutMutation, ViewerQuery } from "./operations";
import { Link, navigate, pathFor, useRoute, type Route } from "./router";
import { session } from "./session";
import { useQuery } from "./useQuery";
import { AdminUser } from "./views/AdminUser";
import { AdminUsers } from "./views/AdminUsers";
import { GroupPage } from "./views/GroupPage";
import { Home } from "./views/Home";
import { SignIn } from "./views/SignIn";

export function App() {
  const [token, setToken] = useState(session.token());
  const [notice, setNotice] = useState<string | null>(null);
  const route = useRoute();

  useEffect(() => {
    setUnauthenticatedHandler((message) => {
      setNotice(message);
      setToken(null);
    });
  }, []);

  const signedIn = useCallback((fresh: string) => {
    session.save(fresh);
    setNotice(null);
    setToken(fresh);
    if (route.name === "signin") navigate("/", true);
  }, [route.name]);

  if (!token) return <SignIn notice={notice} onSignedIn={signedIn} />;
  return <SignedIn key={token} route={route} onSignedOut={() => setToken(null)} />;
}

function SignedIn({ route, onSignedOut }: { route: Route; onSignedOut: () => void }) {
  const { data, error, reload } = useQuery(ViewerQuery, {});
  const [leaving, setLeaving] = useState(false);

  async function signOut() {
    setLeaving(true);
    try {
      await request(LogoutMutation);
    } catch {
      // Signed out here either way; the token expires on its own.
    }
    session.clear();
    navigate("/", true);
    onSignedOut();
  }

  if (error) return <ErrorNote error={error} retry={reload} />;
  if (!data) return <Loading what="your account" />;
  const viewer = data.viewer;
  if (!viewer) return <ErrorNote error={new ApiError("Not signed in.", "UNAUTHENTICATED")} />;
  const admin = viewer.roles.includes("SITE_ADMIN") || viewer.roles.includes("SITE_OWNER");
  const analyst = admin || viewer.roles.includes("GROUP_ANALYST");
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <nav aria-label="Main">
          <Link to="/" aria-current={route.name === "home" || route.name === "group" ? "page" : undefined}>
            Groups
          </Link>
          {admin && (
            <Link to={pathFor({ name: "users" })} aria-current={route.name === "users" || route.name === "user" ? "page" : undefined}>
              Users
            </Link>
          )}
          <a href="/graphql">GraphiQL</a>
        </nav>
        <div className="who">
          <span>
            {viewer.firstName} {viewer.lastName}
          </span>
          <button type="button" onClick={signOut} disabled={leaving}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main">
        <View route={route} admin={admin} analyst={analyst} />
      </main>
    </>
  );
}

function View({ route, admin, analyst }: { route: Route; admin: boolean; analyst: boolean }) {
  if ((route.name === "users" || route.name === "user") && !admin)
    return <p className="state">This page is for site admins.</p>;
  if (!analyst && route.name !== "notFound")
    return (
      <section>
        <h1>Nothing to report</h1>
        <p className="state">
          Group progress reports are for Group Analysts and site admins. Your own progress is in your courses.
        </p>
      </section>
    );
  switch (route.name) {
    case "home":
    case "signin":
      return <Home />;
    case "group":
      return <GroupPage key={route.id} id={route.id} />;
    case "users":
      return <AdminUsers />;
    case "user":
      return <AdminUser key={route.id} id={route.id} />;
    default:
      return <p className="state">This page does not exist. <Link to="/">Back to your groups</Link></p>;
  }
}
