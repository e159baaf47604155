/**
 * Outbound HTTP through the proxy the environment names. Node's own `fetch` ignores
 * `HTTPS_PROXY`, and a self-hosted runner or a company network often reaches GitHub only
 * through a proxy. Which URLs go through which proxy is `@actions/http-client`'s `getProxyUrl`:
 * the rules the runner's toolkit follows (`https_proxy`/`HTTPS_PROXY` for https,
 * `http_proxy`/`HTTP_PROXY` for http, `no_proxy`/`NO_PROXY`, never a loopback host), read, as
 * git and curl read them, from the process environment. The tunnel is undici's `ProxyAgent`
 * (credentials in the proxy URL become its Basic `Proxy-Authorization`). undici 6 is the copy
 * `@actions/github` already brings, so each action bundle holds one.
 *
 * Used by git over HTTP (`git/http.ts`) and by the GitHub client (`github/client.ts`).
 */
import { getProxyUrl } from '@actions/http-client';
import { ProxyAgent, fetch as undiciFetch } from 'undici';

/** One agent (and its pool of tunnels) per proxy URL. */
const agents = new Map<string, ProxyAgent>();

/** The proxy URL for a request to `url`, or undefined to go direct. */
export function proxyFor(url: string): string | undefined {
  return getProxyUrl(url) || undefined;
}

/** undici's fetch through `proxy`. */
export function fetchThrough(proxy: string, url: string, init: RequestInit): Promise<Response> {
  let dispatcher = agents.get(proxy);
  if (!dispatcher) {
    dispatcher = new ProxyAgent(proxy);
    agents.set(proxy, dispatcher);
  }
  return undiciFetch(url, {
    ...(init as Parameters<typeof undiciFetch>[1]),
    dispatcher,
  });
}

/** `fetch`, through the proxy the environment names for the URL (Octokit's `request.fetch`). */
export const proxyAwareFetch: typeof fetch = (input, init = {}) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const proxy = proxyFor(url);
  if (proxy === undefined) return fetch(input, init);
  if (typeof input !== 'string' && !(input instanceof URL))
    throw new Error('proxyAwareFetch takes a URL, not a Request');
  return fetchThrough(proxy, url, init);
};
