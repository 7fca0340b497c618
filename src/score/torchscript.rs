//! A TorchScript module `s(y, sigma)` saved from PyTorch with torch.jit.save: how a user brings a
//! large pretrained score model (an NCSN for images, say).
//!
//! Contract: `forward(y: Tensor[n, d] float32, sigma: Tensor[n] float32) -> Tensor[n, d]`, the
//! score of the target smoothed at noise level sigma. The file is read once; each bind loads it
//! onto the sampler's device.

use std::io::Cursor;
use std::path::Path;

use tch::{CModule, Device, Kind, Tensor};

use super::{BoundScore, ScoreSource};
use crate::runtime::error::{Error, Result};

pub struct TorchScriptScore {
    bytes: Vec<u8>,
    d: usize,
    name: String,
}

fn load(bytes: &[u8], device: Device, name: &str) -> Result<CModule> {
    let mut m = CModule::load_data_on_device(&mut Cursor::new(bytes), device)
        .map_err(|e| Error::format(format!("'{name}' is not a loadable TorchScript module: {e}")))?;
    m.f_set_eval()?;
    Ok(m)
}

impl TorchScriptScore {
    /// Loads the module and checks the contract with one call on [1, d] zeros.
    pub fn new(path: &Path, d: usize) -> Result<TorchScriptScore> {
        if d == 0 {
            return Err(Error::invalid("score dimension must be > 0"));
        }
        let bytes = std::fs::read(path).map_err(|e| Error::io(format!("cannot read '{}': {e}", path.display())))?;
        let name = path.display().to_string();
        let s = TorchScriptScore { bytes, d, name };
        let mut b = s.bind(Device::Cpu)?;
        let _ = b.score(&Tensor::f_zeros([1, d as i64], (Kind::Float, Device::Cpu))?, 0.1)?;
        Ok(s)
    }
}

impl ScoreSource for TorchScriptScore {
    fn dim(&self) -> usize {
        self.d
    }

    fn describe(&self) -> String {
        format!("TorchScript score '{}' (d = {})", self.name, self.d)
    }

    fn bind(&self, device: Device) -> Result<Box<dyn BoundScore>> {
        Ok(Box::new(BoundModule { module: load(&self.bytes, device, &self.name)?, d: self.d, name: self.name.clone() }))
    }
}

struct BoundModule {
    module: CModule,
    d: usize,
    name: String,
}

impl BoundScore for BoundModule {
    fn score(&mut self, y: &Tensor, sigma: f64) -> Result<Tensor> {
        let n = y.size()[0];
        let s = Tensor::f_full([n], sigma, (Kind::Float, y.device()))?;
        let out = tch::no_grad(|| self.module.forward_ts(&[y, &s])).map_err(|e| {
            Error::new(
                crate::runtime::error::ErrorKind::Callback,
                format!("TorchScript score '{}' failed: {e}", self.name),
            )
        })?;
        if out.size() != [n, self.d as i64] {
            return Err(Error::shape(format!(
                "TorchScript score '{}' returned shape {:?}, expected [{n}, {}]",
                self.name,
                out.size(),
                self.d
            )));
        }
        Ok(out.f_to_kind(Kind::Float)?)
    }
}
