/**
 * Reads a ZIP archive from a file by its central directory, as unzip does, without loading it:
 * the tests check a downloaded evidence pack of hundreds of MB entry by entry (names, sizes,
 * sha256 of each stored proof) while measuring the server's memory, not their own.
 */
import { createHash } from "node:crypto";
import { closeSync, createReadStream, fstatSync, openSync, readSync } from "node:fs";
import { inflateRawSync } from "node:zlib";

export interface ZipEntryInfo {
  name: string;
  /** 0 stored, 8 deflated */
  method: number;
  compressedSize: number;
  size: number;
  crc: number;
  dataOffset: number;
}

function read(fd: number, position: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  readSync(fd, b, 0, length, position);
  return b;
}

/** The entries of the ZIP at `path`, in central-directory order; throws when it is not a well-formed ZIP. */
export function zipEntries(path: string): ZipEntryInfo[] {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const tail = read(fd, Math.max(0, size - 65_557), Math.min(size, 65_557));
    const eocd = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    if (eocd === -1) throw new Error("fin de répertoire central absente");
    const count = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    const cd = read(fd, cdOffset, cdSize);
    const out: ZipEntryInfo[] = [];
    let at = 0;
    for (let i = 0; i < count; i++) {
      if (cd.readUInt32LE(at) !== 0x02014b50) throw new Error(`entrée ${i} du répertoire central illisible`);
      const method = cd.readUInt16LE(at + 10);
      const crc = cd.readUInt32LE(at + 16);
      const compressedSize = cd.readUInt32LE(at + 20);
      const uncompressed = cd.readUInt32LE(at + 24);
      const nameLength = cd.readUInt16LE(at + 28);
      const extraLength = cd.readUInt16LE(at + 30);
      const commentLength = cd.readUInt16LE(at + 32);
      const localOffset = cd.readUInt32LE(at + 42);
      const name = cd.subarray(at + 46, at + 46 + nameLength).toString("utf8");
      const local = read(fd, localOffset, 30);
      if (local.readUInt32LE(0) !== 0x04034b50) throw new Error(`en-tête local de ${name} illisible`);
      const dataOffset = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
      out.push({ name, method, compressedSize, size: uncompressed, crc, dataOffset });
      at += 46 + nameLength + extraLength + commentLength;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** The bytes of one (small) entry, inflated when deflated. */
export function entryBytes(path: string, e: ZipEntryInfo): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const raw = read(fd, e.dataOffset, e.compressedSize);
    return new Uint8Array(e.method === 8 ? inflateRawSync(raw) : raw);
  } finally {
    closeSync(fd);
  }
}

/** The sha256 of a stored entry, read as a stream (any size). */
export function storedEntrySha256(path: string, e: ZipEntryInfo): Promise<string> {
  if (e.method !== 0) throw new Error(`${e.name} n'est pas stockée telle quelle`);
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    if (e.compressedSize === 0) return resolve(hash.digest("hex"));
    createReadStream(path, { start: e.dataOffset, end: e.dataOffset + e.compressedSize - 1 })
      .on("data", (c) => hash.update(c))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}
