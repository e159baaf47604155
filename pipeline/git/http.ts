/**
 * The HTTP client git fetches and pushes through. Node's own `fetch` ignores `HTTPS_PROXY`, and a
 * self-hosted runner or a company network often reaches GitHub only through a proxy. So a
 * request whose URL the environment says to proxy goes through undici's `ProxyAgent` to that
 * proxy (credentials in its URL become its Basic `Proxy-Authorization`); every other request
 * uses isomorphic-git's own fetch-based client as it is.
 *
 * Which requests, and through which proxy, is `@actions/http-client`'s `getProxyUrl`: the rules
 * the runner's toolkit and Octokit in `@actions/github` already follow (`https_proxy` or
 * `HTTPS_PROXY` for https, `http_proxy` or `HTTP_PROXY` for http, `no_proxy`/`NO_PROXY`, never
 * a loopback host). Like git and curl, it reads the process environment. undici 6 is the copy
 * `@actions/github` already brings, so each action bundle holds one.
 */
import { getProxyUrl } from '@actions/http-client';
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
// The fetch-based client: the node one calls url.parse(), which Node 24 flags as a security
// deprecation (DEP0169) on every request. Node 20 and later have fetch.
import webHttp from 'isomorphic-git/http/web';
import { ProxyAgent, fetch as undiciFetch } from 'undici';

async function collect(body: AsyncIterableIterator<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of body) parts.push(part);
  return Buffer.concat(parts);
}

/** One agent (and its pool of tunnels) per proxy URL. */
const agents = new Map<string, ProxyAgent>();

/** isomorphic-git's HTTP client interface over undici's fetch, through `proxy`. */
async function throughProxy(proxy: string, req: GitHttpRequest): Promise<GitHttpResponse> {
  let dispatcher = agents.get(proxy);
  if (!dispatcher) {
    dispatcher = new ProxyAgent(proxy);
    agents.set(proxy, dispatcher);
  }
  const { url, method = 'GET', headers = {}, body, signal } = req;
  const res = await undiciFetch(url, {
    method,
    headers,
    ...(body ? { body: await collect(body) } : {}),
    ...(signal ? { signal: signal } : {}),
    dispatcher,
  });
  const out: Record<string, string> = {};
  res.headers.forEach((value, key) => (out[key] = value));
  const stream = res.body;
  return {
    url: res.url,
    method,
    statusCode: res.status,
    statusMessage: res.statusText,
    body: stream
      ? (stream[Symbol.asyncIterator]() as AsyncIterableIterator<Uint8Array>)
      : [new Uint8Array(await res.arrayBuffer())][Symbol.iterator](),
    headers: out,
  } as GitHttpResponse;
}

/** The client git uses: through the proxy the environment names for a URL, else direct. */
export const gitHttp: HttpClient = {
  request(req) {
    const proxy = getProxyUrl(req.url);
    return proxy ? throughProxy(proxy, req) : webHttp.request(req);
  },
};
