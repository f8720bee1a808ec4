/**
 * The route table of `daft serve`: each route is a method, an OpenAPI path template ("/infer/{model}"), its
 * OpenAPI operation and its handler. Matching ignores a trailing slash ("/info" = "/info/"); a path that exists
 * with another method is a 405 with Allow; GET routes also answer HEAD.
 */
import type { OpenApiOperation } from "./openapi.js";
import { HttpError } from "./responses.js";

export type Method = "GET" | "POST" | "PUT" | "DELETE";

export interface RouteContext {
  request: Request;
  url: URL;
  /** Path parameters, percent-decoded (a greedy one is left encoded for safeSegments). */
  params: Record<string, string>;
}

export interface Route {
  method: Method;
  /** OpenAPI path template. */
  path: string;
  /** The last parameter may span several segments (files in subfolders). */
  greedy?: boolean;
  /** Extra condition on the request path (e.g. the web app's catch-all leaves API prefixes alone). */
  accepts?: (pathname: string) => boolean;
  operation: OpenApiOperation;
  handle(context: RouteContext): Promise<Response>;
}

interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  names: string[];
}

export type RouteMatch =
  | { kind: "found"; route: Route; params: Record<string, string> }
  | { kind: "wrong-method"; allow: string[] }
  | { kind: "none" };

export class Router {
  private readonly compiled: CompiledRoute[];

  constructor(readonly routes: readonly Route[]) {
    this.compiled = routes.map((route) => compile(route));
  }

  match(method: string, pathname: string): RouteMatch {
    const path = pathname.length > 1 ? pathname.replace(/\/+$/, "") || "/" : pathname;
    const allow = new Set<string>();
    for (const { route, pattern, names } of this.compiled) {
      const m = pattern.exec(path);
      if (!m || (route.accepts && !route.accepts(pathname))) continue;
      if (route.method === method || (method === "HEAD" && route.method === "GET")) {
        const params: Record<string, string> = {};
        names.forEach((name, i) => {
          const value = m[i + 1]!;
          params[name] = route.greedy && i === names.length - 1 ? value : decodeParam(name, value);
        });
        return { kind: "found", route, params };
      }
      allow.add(route.method);
      if (route.method === "GET") allow.add("HEAD");
    }
    return allow.size > 0 ? { kind: "wrong-method", allow: [...allow].sort() } : { kind: "none" };
  }
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const template = route.path.length > 1 ? route.path.replace(/\/+$/, "") : route.path;
  const parts = template.split(/(\{[A-Za-z_]+\})/);
  const source = parts
    .map((part, i) => {
      const name = /^\{([A-Za-z_]+)\}$/.exec(part)?.[1];
      if (!name) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      names.push(name);
      const last = parts.slice(i + 1).every((p) => p === "");
      return route.greedy && last ? "(.+)" : "([^/]+)";
    })
    .join("");
  return { route, pattern: new RegExp(`^${source}$`), names };
}

function decodeParam(name: string, value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new HttpError(400, `${name}: not valid percent-encoding`);
  }
}
