/**
 * The HTTP client git fetches and pushes through: a request whose URL the environment says to
 * proxy (`HTTPS_PROXY`, `NO_PROXY`: `../proxy.ts`) goes through that proxy; every other one uses
 * isomorphic-git's own fetch-based client as it is.
 */
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
// The fetch-based client: the node one calls url.parse(), which Node 24 flags as a security
// deprecation (DEP0169) on every request. Node 20 and later have fetch.
import webHttp from 'isomorphic-git/http/web';
import { fetchThrough, proxyFor } from '../proxy.ts';

async function collect(body: AsyncIterableIterator<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of body) parts.push(part);
  return Buffer.concat(parts);
}

/** isomorphic-git's HTTP client interface over fetch through `proxy`. */
async function throughProxy(proxy: string, req: GitHttpRequest): Promise<GitHttpResponse> {
  const { url, method = 'GET', headers = {}, body, signal } = req;
  const res = await fetchThrough(proxy, url, {
    method,
    headers,
    ...(body ? { body: await collect(body) } : {}),
    ...(signal ? { signal: signal } : {}),
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
    const proxy = proxyFor(req.url);
    return proxy ? throughProxy(proxy, req) : webHttp.request(req);
  },
};
