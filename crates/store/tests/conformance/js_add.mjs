// Prints the CID that the JavaScript UnixFS importer (npm `ipfs-unixfs-importer`) gives each file.
// Usage: node js_add.mjs CID_VERSION FILE...   (run from the repository root, for node_modules/)
// CID_VERSION 0: `ipfs add` defaults; 1: `ipfs add --cid-version=1` (raw leaves). Both with Kubo's
// 2015 layout (profile `unixfs-v0-2015`: 256 KiB chunks, balanced, 174 links per node).
import { createReadStream } from 'node:fs'
import { importByteStream } from 'ipfs-unixfs-importer'

const [version, ...files] = process.argv.slice(2)
const cidVersion = Number(version)
// Hash only: the blocks are not kept.
const blockstore = { put: async (cid) => cid, has: async () => false }
for (const file of files) {
  const entry = await importByteStream(createReadStream(file, { highWaterMark: 1 << 20 }), blockstore, {
    profile: 'unixfs-v0-2015',
    cidVersion,
    rawLeaves: cidVersion === 1
  })
  console.log(entry.cid.toString())
}
