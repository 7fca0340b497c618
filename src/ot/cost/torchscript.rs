//! A cost given as a TorchScript module saved from PyTorch with torch.jit.save.
//!
//! Contract: `forward(x: Tensor[m, dx] float32, y: Tensor[m, dy] float32) -> Tensor[m]`, the cost
//! of each row pair. grad_y comes from autograd through the module, so the module must be
//! differentiable in y; SPOT also differentiates through it in x. The module's bytes are kept so
//! that a saved model carries the cost (`cost.module`) and reloads without the original file.

use std::io::Cursor;
use std::path::Path;

use parking_lot::Mutex;
use tch::{CModule, Device, Kind, Tensor};

use super::external::{check_curvature, check_output, ExternalCost};
use crate::runtime::error::{Error, ErrorKind, Result};
use crate::runtime::model_file::ModelFile;

/// Largest module file read (a cost is a small network; this bounds the copy kept in memory and
/// in every saved model).
const MAX_MODULE_BYTES: usize = 1 << 28;

pub struct TorchScriptCost {
    bytes: Vec<u8>,
    dx: usize,
    dy: usize,
    curvature: f64,
    name: String,
    /// The module loaded on the last device asked for. CModule is not Sync, and a forward call
    /// with autograd keeps state in the module's graph, so calls are serialised behind the lock.
    module: Mutex<Option<(Device, CModule)>>,
}

impl std::fmt::Debug for TorchScriptCost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TorchScriptCost('{}', dx {}, dy {}, curvature {})", self.name, self.dx, self.dy, self.curvature)
    }
}

fn callback_error(name: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Callback, format!("TorchScript cost '{name}' failed: {e}"))
}

impl TorchScriptCost {
    /// Reads the module at `path` and checks the contract (see [`TorchScriptCost::from_bytes`]).
    pub fn new(path: &Path, dx: usize, dy: usize, curvature: f64) -> Result<TorchScriptCost> {
        let len =
            std::fs::metadata(path).map_err(|e| Error::io(format!("cannot read '{}': {e}", path.display())))?.len();
        if len > MAX_MODULE_BYTES as u64 {
            return Err(Error::invalid(format!("'{}' holds {len} bytes, over {MAX_MODULE_BYTES}", path.display())));
        }
        let bytes = std::fs::read(path).map_err(|e| Error::io(format!("cannot read '{}': {e}", path.display())))?;
        TorchScriptCost::from_bytes(bytes, dx, dy, curvature, path.display().to_string())
    }

    /// The module from its bytes; one call on two zero pairs checks the output's shape and that
    /// grad_y exists.
    pub fn from_bytes(bytes: Vec<u8>, dx: usize, dy: usize, curvature: f64, name: String) -> Result<TorchScriptCost> {
        if dx == 0 || dy == 0 {
            return Err(Error::invalid(format!("a cost needs dx, dy > 0, got {dx}, {dy}")));
        }
        crate::runtime::limits::count("dimension", dx.max(dy), crate::runtime::limits::MAX_DIMENSION)?;
        let curvature = check_curvature(curvature)?;
        let c = TorchScriptCost { bytes, dx, dy, curvature, name, module: Mutex::new(None) };
        let x = Tensor::f_zeros([2, dx as i64], (Kind::Float, Device::Cpu))?;
        let y = Tensor::f_zeros([2, dy as i64], (Kind::Float, Device::Cpu))?;
        let _ = c.paired(&x, &y)?;
        let _ = c.grad_y(&x, &y)?;
        Ok(c)
    }

    fn check(&self, x: &Tensor, y: &Tensor) -> Result<i64> {
        let (sx, sy) = (x.size(), y.size());
        if sx.len() != 2 || sy.len() != 2 || sx[0] != sy[0] || sx[1] != self.dx as i64 || sy[1] != self.dy as i64 {
            return Err(Error::shape(format!(
                "TorchScript cost '{}' takes pairs [m, {}] and [m, {}], got {sx:?} and {sy:?}",
                self.name, self.dx, self.dy
            )));
        }
        Ok(sx[0])
    }

    /// forward(x, y) on x's device in float32, the module loaded there on first use.
    fn forward(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let m = self.check(x, y)?;
        let device = x.device();
        let mut slot = self.module.lock();
        if slot.as_ref().map_or(true, |(d, _)| *d != device) {
            let mut module = CModule::load_data_on_device(&mut Cursor::new(&self.bytes), device)
                .map_err(|e| Error::format(format!("'{}' is not a loadable TorchScript module: {e}", self.name)))?;
            module.f_set_eval()?;
            *slot = Some((device, module));
        }
        let (_, module) = slot.as_ref().ok_or_else(|| Error::internal("module cache"))?;
        let (xf, yf) = (x.f_to_kind(Kind::Float)?, y.f_to_kind(Kind::Float)?.f_to_device(device)?);
        let out = module.forward_ts(&[&xf, &yf]).map_err(|e| callback_error(&self.name, e))?;
        check_output(&out, &[m], &format!("TorchScript cost '{}'", self.name))?;
        Ok(out)
    }

    pub fn store(&self, f: &mut ModelFile) -> Result<()> {
        f.set("cost_dx", self.dx);
        f.set("cost_dy", self.dy);
        f.set("cost_curvature", format!("{:e}", self.curvature));
        // Model files hold float32 tensors; bytes 0..=255 are exact in float32.
        f.tensors.insert("cost.module".into(), Tensor::f_from_slice(&self.bytes)?);
        Ok(())
    }

    pub fn restore(f: &ModelFile, dx: usize, dy: usize) -> Result<TorchScriptCost> {
        let (sdx, sdy): (usize, usize) = (f.get_parsed("cost_dx")?, f.get_parsed("cost_dy")?);
        if (sdx, sdy) != (dx, dy) {
            return Err(Error::format(format!(
                "the stored cost maps dimensions ({sdx}, {sdy}), the model ({dx}, {dy})"
            )));
        }
        let curvature: f64 = f.get_parsed("cost_curvature")?;
        let t = f.tensor("cost.module")?;
        if t.dim() != 1 || t.numel() > MAX_MODULE_BYTES {
            return Err(Error::format(format!("cost.module has shape {:?}", t.size())));
        }
        let v = crate::reference::linalg::to_vec(&t.f_to_kind(Kind::Double)?)?;
        if v.iter().any(|b| !(0.0..=255.0).contains(b) || b.fract() != 0.0) {
            return Err(Error::format("cost.module holds values that are not bytes"));
        }
        let bytes = v.iter().map(|&b| b as u8).collect();
        TorchScriptCost::from_bytes(bytes, dx, dy, curvature, "cost.module".into())
            .map_err(|e| Error::format(e.message))
    }
}

impl ExternalCost for TorchScriptCost {
    fn name(&self) -> &'static str {
        "torchscript"
    }

    fn dims(&self) -> (usize, usize) {
        (self.dx, self.dy)
    }

    fn paired(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        Ok(self.forward(x, y)?.f_to_kind(x.kind())?)
    }

    fn grad_y(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        // The sampler calls this under no_grad; the gradient needs the graph, and a leaf of its
        // own so that it never reaches the caller's.
        let g = tch::with_grad(|| -> Result<Tensor> {
            let yl = y.f_detach()?.f_to_kind(Kind::Float)?.f_set_requires_grad(true)?;
            let out = self.forward(&x.f_detach()?, &yl)?;
            let grads = Tensor::f_run_backward(&[out.f_sum(Kind::Float)?], &[&yl], false, false)
                .map_err(|e| callback_error(&self.name, e))?;
            grads.into_iter().next().ok_or_else(|| Error::internal("autograd returned no gradient"))
        })?;
        check_output(&g, &[y.size()[0], self.dy as i64], &format!("grad_y of TorchScript cost '{}'", self.name))?;
        Ok(g.f_to_kind(y.kind())?)
    }

    fn y_curvature(&self) -> f64 {
        self.curvature
    }

    fn store(&self, f: &mut ModelFile) -> Result<()> {
        TorchScriptCost::store(self, f)
    }
}
