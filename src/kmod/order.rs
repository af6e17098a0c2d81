//! The iteration order of kmod's string hash table.
//!
//! depmod lists modules (when there is no `modules.order`) and writes
//! `modules.symbols` in the order its hash table iterates: bucket by bucket, and within
//! a bucket by `strcmp` order of the keys. The bucket is Paul Hsieh's "SuperFastHash"
//! of the key masked to the (power of two) bucket count. Reproducing it makes those
//! files identical to depmod's.

/// Buckets of depmod's module-name table.
pub(crate) const MODULE_BUCKETS: u32 = 512;
/// Buckets of depmod's symbol table.
pub(crate) const SYMBOL_BUCKETS: u32 = 2048;

/// SuperFastHash as kmod computes it (bytes read as signed `char` where kmod does).
pub(crate) fn superfast(key: &[u8]) -> u32 {
    let len = key.len();
    let mut hash = len as u32;
    let u16le = |k: &[u8]| u32::from(u16::from_le_bytes([k[0], k[1]]));
    let signed = |b: u8| b as i8 as i32 as u32;
    let mut chunks = key.chunks_exact(4);
    for k in &mut chunks {
        hash = hash.wrapping_add(u16le(&k[..2]));
        let tmp = (u16le(&k[2..]) << 11) ^ hash;
        hash = (hash << 16) ^ tmp;
        hash = hash.wrapping_add(hash >> 11);
    }
    let rem = chunks.remainder();
    match rem.len() {
        3 => {
            hash = hash.wrapping_add(u16le(rem));
            hash ^= hash << 16;
            hash ^= signed(rem[2]) << 18;
            hash = hash.wrapping_add(hash >> 11);
        }
        2 => {
            hash = hash.wrapping_add(u16le(rem));
            hash ^= hash << 11;
            hash = hash.wrapping_add(hash >> 17);
        }
        1 => {
            hash = hash.wrapping_add(signed(rem[0]));
            hash ^= hash << 10;
            hash = hash.wrapping_add(hash >> 1);
        }
        _ => {}
    }
    hash ^= hash << 3;
    hash = hash.wrapping_add(hash >> 5);
    hash ^= hash << 4;
    hash = hash.wrapping_add(hash >> 17);
    hash ^= hash << 25;
    hash = hash.wrapping_add(hash >> 6);
    hash
}

/// Sort `items` (by their key) into the order a kmod hash of `buckets` buckets
/// iterates them.
pub(crate) fn sort_like_hash<T>(items: &mut [T], buckets: u32, key: impl Fn(&T) -> &str) {
    items.sort_by(|a, b| {
        let (ka, kb) = (key(a).as_bytes(), key(b).as_bytes());
        let ba = superfast(ka) & (buckets - 1);
        let bb = superfast(kb) & (buckets - 1);
        ba.cmp(&bb).then_with(|| ka.cmp(kb))
    });
}
