//! Device selection: `cpu`, `cuda`, `cuda:N`, `auto`. Asking for a device that is not there is
//! an error, never a silent fallback to the CPU.

use crate::runtime::error::{Error, Result};
use once_cell::sync::Lazy;
use tch::Device;

/// libtorch registers its CUDA backend only when `libtorch_cuda.so` is loaded. The linker may
/// drop that library from our DT_NEEDED (nothing references its symbols), so CUDA is loaded on
/// first demand. CPU-only users never pay for mapping the CUDA libraries.
static CUDA_LOADED: Lazy<bool> = Lazy::new(|| {
    if tch::Cuda::is_available() {
        return true;
    }
    for name in ["libtorch_cuda.so\0", "libtorch_cuda.dylib\0"] {
        // SAFETY: dlopen with a NUL-terminated name; the handle is intentionally leaked so the
        // library stays loaded for the life of the process.
        let h = unsafe { libc::dlopen(name.as_ptr() as *const libc::c_char, libc::RTLD_NOW | libc::RTLD_GLOBAL) };
        if !h.is_null() {
            break;
        }
    }
    tch::Cuda::is_available()
});

pub fn cuda_available() -> bool {
    *CUDA_LOADED
}

pub fn cuda_device_count() -> usize {
    if cuda_available() {
        tch::Cuda::device_count().max(0) as usize
    } else {
        0
    }
}

/// Parses a device name. `auto` is CUDA device 0 when present, else the CPU.
pub fn parse_device(name: &str) -> Result<Device> {
    let name = name.trim();
    match name {
        "" | "cpu" => Ok(Device::Cpu),
        "auto" => Ok(if cuda_available() { Device::Cuda(0) } else { Device::Cpu }),
        "cuda" => cuda(0, name),
        _ => {
            if let Some(idx) = name.strip_prefix("cuda:") {
                let i: usize = idx
                    .parse()
                    .map_err(|_| Error::invalid(format!("device '{name}': expected cuda:N with N a number")))?;
                cuda(i, name)
            } else {
                Err(Error::invalid(format!("unknown device '{name}' (expected cpu, cuda, cuda:N or auto)")))
            }
        }
    }
}

fn cuda(i: usize, name: &str) -> Result<Device> {
    let n = cuda_device_count();
    if n == 0 {
        return Err(Error::device(format!(
            "device '{name}' requested but CUDA is not available on this machine (libtorch sees no GPU)"
        )));
    }
    if i >= n {
        return Err(Error::device(format!("device '{name}' requested but only {n} CUDA device(s) exist")));
    }
    Ok(Device::Cuda(i))
}

pub fn device_name(d: Device) -> String {
    match d {
        Device::Cpu => "cpu".into(),
        Device::Cuda(i) => format!("cuda:{i}"),
        Device::Mps => "mps".into(),
        Device::Vulkan => "vulkan".into(),
    }
}
