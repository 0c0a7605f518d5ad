// A small history router: the dashboard has five routes, all keyed by opaque ids (no personal
// data in URLs). The server answers index.html for these paths (app/web.py SPA_PATHS).
import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from "react";

export type Route =
  | { name: "home" }
  | { name: "signin" }
  | { name: "group"; id: string }
  | { name: "users" }
  | { name: "user"; id: string }
  | { name: "notFound" };

export function parseRoute(pathname: string): Route {
  const parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { name: "home" };
  if (parts.length === 1 && parts[0] === "signin") return { name: "signin" };
  if (parts.length === 2 && parts[0] === "groups") return { name: "group", id: parts[1] };
  if (parts[0] === "admin" && (parts.length === 1 || (parts.length === 2 && parts[1] === "users")))
    return { name: "users" };
  if (parts.length === 3 && parts[0] === "admin" && parts[1] === "users")
    return { name: "user", id: parts[2] };
  return { name: "notFound" };
}

export function pathFor(route: Route): string {
  switch (route.name) {
    case "group":
      return `/groups/${encodeURIComponent(route.id)}`;
    case "users":
      return "/admin/users";
    case "user":
      return `/admin/users/${encodeURIComponent(route.id)}`;
    case "signin":
      return "/signin";
    default:
      return "/";
  }
}

const listeners = new Set<() => void>();

export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  listeners.forEach((listener) => listener());
}

export function useRoute(): Route {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    listeners.add(update);
    window.addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      window.removeEventListener("popstate", update);
    };
  }, []);
  return parseRoute(path);
}

export function Link({ to, ...props }: { to: string } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={onClick} {...props} />;
}
