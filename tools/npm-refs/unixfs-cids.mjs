// Independent reference for p2plab's IPFS tests: the CIDs js-ipfs-unixfs's importer (the one
// Helia uses) computes for files and folders, in one node process for all of them (node's
// start-up costs more than hashing a few MiB).
//   node unixfs-cids.mjs JOBS.json   JOBS: [{"path": FILE or FOLDER, "profile": "unixfs-v0-2015"
//                                            | "unixfs-v1-2025", "options": {importer options}}]
// Besides the importer's own options (cidVersion, rawLeaves), "chunkSize" and
// "maxChildrenPerNode" choose the fixed-size chunker's size and the balanced layout's width.
// Prints one JSON line per job, in order: {"path", "profile", "cid"} (the root's CID as text).
import { readFile, readdir, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { MemoryBlockstore } from 'blockstore-core'

async function entries (path, prefix) {
  const info = await stat(path)
  if (!info.isDirectory()) return [{ path: prefix, content: await readFile(path) }]
  const out = [{ path: prefix }]
  for (const name of (await readdir(path)).sort()) {
    out.push(...await entries(join(path, name), prefix + '/' + name))
  }
  return out
}

const jobs = JSON.parse(await readFile(process.argv[2], 'utf8'))
for (const job of jobs) {
  const info = await stat(job.path)
  const source = info.isDirectory() ? await entries(job.path, basename(job.path)) : [{ content: await readFile(job.path) }]
  const { chunkSize, maxChildrenPerNode, ...options } = job.options ?? {}
  if (chunkSize !== undefined) options.chunker = fixedSize({ chunkSize })
  if (maxChildrenPerNode !== undefined) options.layout = balanced({ maxChildrenPerNode })
  let root
  for await (const entry of importer(source, new MemoryBlockstore(), { profile: job.profile, ...options })) {
    if (info.isDirectory() ? entry.path === basename(job.path) : true) root = entry
  }
  console.log(JSON.stringify({ path: job.path, profile: job.profile, cid: root.cid.toString() }))
}
