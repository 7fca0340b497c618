//! The neural half of SCONES: ReLU MLP potentials and their optimizer settings, Algorithm 1
//! (dual training of phi and psi), Algorithm 2 (Langevin sampling of pi(y | x)) and the
//! barycentric-projection baseline (Seguy et al. 2018).

pub mod activation;
pub mod barycentric;
pub mod dual;
pub mod mlp;
pub mod optim;
pub mod sampler;
pub mod spot;
