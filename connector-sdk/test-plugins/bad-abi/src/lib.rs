//! A library that claims a future plugin ABI. The hub reads `renkei_abi_version` first and must
//! refuse the file without touching anything else, naming both versions.

/// Written by hand (no SDK): the value a plugin built against an incompatible SDK would give.
#[no_mangle]
pub extern "C" fn renkei_abi_version() -> u32 {
    999
}
