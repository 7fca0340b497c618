# Gaussian -> Swiss roll (the paper's Fig. 4) with SCONES, from Julia (bindings/julia/Scones).
#
#   SCONES_LIBRARY=target/release julia --project=bindings/julia/Scones examples/julia/swiss_roll.jl [--quick] [--out DIR]
#
# KL-regularized OT with lambda = 2 and the squared Euclidean cost between N(0, I_2) and the
# library's Swiss roll (scones_toy_sample). SCONES samples y ~ π(y | x) by annealed Langevin
# dynamics with the empirical (kernel-smoothed, bandwidth 0.05) score of 3000 target points; the
# barycentric projection T(x) = E_π[y | x] is the baseline. Prints the sliced W2 distance of each
# to a fresh target sample and writes a PNG. Points are the columns of 2 × n matrices.
using Scones

function main(args)
    quick = "--quick" in args
    i = findfirst(==("--out"), args)
    outdir = i === nothing ? "out" : args[i + 1]
    n_train, n_eval, n_emp = quick ? 2000 : 20000, quick ? 300 : 3000, quick ? 1000 : 3000
    t0 = time()
    println("scones ", Scones.version(), ": N(0, I) -> Swiss roll, KL, lambda = 2")
    report(what) = p -> begin
        p.iteration % max(p.total ÷ 4, 1) == 0 &&
            println("  ", what, ": ", p.iteration, " / ", p.total, ", objective ", round(p.objective; digits=4),
                    " (", round(time() - t0; digits=1), " s)")
        true   # false would cancel
    end

    x_train = toy_sample(:gaussian, n_train; seed=1)
    y_train = toy_sample(:swiss_roll, n_train; seed=2)
    x = toy_sample(:gaussian, n_eval; seed=3)
    fresh = toy_sample(:swiss_roll, n_eval; seed=4)
    y_emp = toy_sample(:swiss_roll, n_emp; seed=5)
    source, target = Measure(x_train), Measure(y_train)

    # Algorithm 1: dual potentials φ, ψ.
    dual = train_dual(source, target; regularizer=:kl, lambda=2.0, hidden=[128, 128], batch_size=250,
                      iterations=quick ? 200 : 3000, progress=report("dual training"), progress_every=50)

    # The baseline: barycentric projection T(x) = E_π[y | x].
    T = train_barycentric(dual, source, target; hidden=[128, 128], batch_size=250,
                          iterations=quick ? 200 : 2000, progress=report("barycentric map"), progress_every=50)
    t_x = T(x)

    # Algorithm 2: annealed Langevin, 10 levels from 3 down to 0.01 then denoising, with the
    # empirical score of the target points.
    s = empirical_score(y_emp; bandwidth=0.05)
    sampler = Sampler(dual, s; annealing=(3.0, 0.01, 10, true), steps=quick ? 10 : 60, step_size=2e-5, seed=7)
    y = sample(sampler, x)

    # π(y | x) for a few fixed sources, K samples each.
    fixed = [-1.5 -0.5 0.0 0.8 1.5 0.3; 0.0 1.0 0.0 -0.8 0.5 1.8]
    k = quick ? 20 : 150
    cond = sample(Sampler(dual, s; annealing=(3.0, 0.01, 10, true), steps=quick ? 10 : 60, step_size=2e-5,
                          samples_per_source=k, seed=7), fixed)
    fixed_rep = repeat(fixed; inner=(1, k))

    sw_bp, sw_sc = sliced_w2(t_x, fresh; projections=200), sliced_w2(y, fresh; projections=200)
    sw_floor = sliced_w2(y_emp, fresh; projections=200)
    println("sliced W2 to a fresh Swiss roll sample ($n_eval points):")
    println("  barycentric projection T(x)   ", round(sw_bp; digits=4))
    println("  SCONES, empirical score       ", round(sw_sc; digits=4))
    println("  another exact target sample   ", round(sw_floor; digits=4), "   (the sampling-noise floor)")

    mkpath(outdir)
    fig = Figure(1600, 1600; rows=2, cols=2)
    foreach(p -> bounds!(fig, p, -3.5, 3.5, -3.5, 3.5), 1:4)
    target_pts = view(y_train, :, 1:n_eval)   # a strided view: passed without copying
    scatter!(fig, 1, x; color=0x1f77b440, radius=2.0)
    scatter!(fig, 1, target_pts; color=0xff7f0e90, radius=2.0)
    title!(fig, 1, "source N(0, I) and target Swiss roll")
    legend!(fig, 1, ["source x", "Swiss roll", "T(x)", "SCONES"], [0x1f77b4ff, 0xff7f0eff, 0xd62728ff, 0x2ca02cff])
    scatter!(fig, 2, target_pts; color=0xff7f0e30, radius=2.0)
    scatter!(fig, 2, t_x; color=0xd62728a0, radius=2.0)
    title!(fig, 2, "barycentric projection T(x): SW2 $(round(sw_bp; digits=3))")
    scatter!(fig, 3, target_pts; color=0xff7f0e30, radius=2.0)
    scatter!(fig, 3, y; color=0x2ca02ca0, radius=2.0)
    title!(fig, 3, "SCONES y ~ pi(y|x), empirical score: SW2 $(round(sw_sc; digits=3))")
    scatter!(fig, 4, target_pts; color=0xff7f0e30, radius=2.0)
    segments!(fig, 4, fixed_rep, cond; color=0x00000018)
    scatter!(fig, 4, cond; color=0x2ca02cb0, radius=2.5)
    scatter!(fig, 4, fixed; color=0x1f77b4ff, radius=6.0)
    title!(fig, 4, "pi(y|x) for 6 fixed sources (blue)")
    png = savepng(fig, joinpath(outdir, "swiss_roll_julia.png"))
    println("wrote ", png, " in ", round(time() - t0; digits=1), " s")
end

main(ARGS)
