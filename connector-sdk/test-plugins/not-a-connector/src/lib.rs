//! An ordinary C library that happens to sit in the plugin directory: no renkei symbols.

#[no_mangle]
pub extern "C" fn add_numbers(a: i32, b: i32) -> i32 {
    a.wrapping_add(b)
}
