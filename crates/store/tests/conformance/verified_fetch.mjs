// Reads files from our gateway with a real trustless-gateway client, npm `@helia/verified-fetch`,
// which fetches blocks over HTTP and verifies each against its CID. Prints each file's SHA-256.
// Usage: node verified_fetch.mjs GATEWAY_URL CID...   (run from the repository root, for node_modules/)
//
// Set-up notes (Node 20, @helia/verified-fetch 8.0.4):
// - Node 20 lacks Promise.withResolvers (Node 22 has it), which the libp2p-era packages call: polyfilled.
// - undici 8 (pulled in through libp2p) needs Node 22.19: package.json overrides it to undici 7.
// - `createVerifiedFetch({ gateways })` starts a libp2p node and delegated routing; instead a light Helia
//   with only the HTTP block broker and our gateway as its (fallback) router is built, and handed to
//   `createVerifiedFetchWithHelia`.
// - Helia's routing waits forever when it has no non-fallback router, so a router that finds nothing
//   is added.
import { createHash } from 'node:crypto'

if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve, reject
    const promise = new this((res, rej) => { resolve = res; reject = rej })
    return { promise, resolve, reject }
  }
}

const { createVerifiedFetchWithHelia } = await import('@helia/verified-fetch')
const { createHeliaLight } = await import('helia')
const { withHTTP } = await import('@helia/http')

const [gateway, ...cids] = process.argv.slice(2)
const light = createHeliaLight({})
light.addRouter({ name: 'none', findProviders: async function * () {} })
// Loopback and plain HTTP allowed: this is a test gateway.
const helia = await withHTTP(light, {
  delegatedRouters: [],
  recursiveGateways: [gateway],
  allowInsecure: true,
  allowLocal: true
}).start()
const verifiedFetch = await createVerifiedFetchWithHelia(helia)
try {
  for (const cid of cids) {
    const response = await verifiedFetch(`ipfs://${cid}`, { signal: AbortSignal.timeout(30_000) })
    if (!response.ok) throw new Error(`${cid}: HTTP ${response.status} ${await response.text()}`)
    const bytes = new Uint8Array(await response.arrayBuffer())
    console.log(createHash('sha256').update(bytes).digest('hex'))
  }
} finally {
  await verifiedFetch.stop()
}
