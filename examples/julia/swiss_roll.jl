# Gaussian -> Swiss roll transport with SCONES, from Julia (bindings/julia/Scones).
#
#   SCONES_LIBRARY=target/release julia --project=bindings/julia/Scones examples/julia/swiss_roll.jl [--quick] [--out DIR]
#
# Trains dual potentials between N(0, I) in 2-D and a Swiss roll, samples y ~ π(y | x) for fresh
# Gaussian sources with Langevin dynamics, and draws everything into a PNG. Points are columns.
#
# Stand-ins until the library has them (see README "Bindings"): the Swiss roll is generated
# here (t = 1.5π(1 + 2u), (t cos t, t sin t) / 5 + noise), and the target score is the exact
# score of the Gaussian with the roll's mean and covariance; the library's Swiss roll generator
# and the empirical (smoothed) target score should replace both when they land.
using Scones
using Random

function swiss_roll(n; noise=0.05, rng=Random.default_rng())
    t = 1.5π .* (1 .+ 2 .* rand(rng, n))
    return vcat(permutedims(t .* cos.(t)), permutedims(t .* sin.(t))) ./ 5 .+ noise .* randn(rng, 2, n)
end

function main(args)
    quick = "--quick" in args
    i = findfirst(==("--out"), args)
    outdir = i === nothing ? "out" : args[i + 1]
    n_train, n_samples, λ = quick ? 600 : 4000, quick ? 300 : 2000, 0.5
    println("scones ", Scones.version(), ": Gaussian -> Swiss roll, lambda = ", λ)

    x_train = randn(MersenneTwister(1), 2, n_train)        # source N(0, I)
    y_train = swiss_roll(n_train; rng=MersenneTwister(2))  # target

    dual = train_dual(x_train, y_train; regularizer=:kl, lambda=λ, hidden=[64, 64], batch_size=quick ? 128 : 256,
                      iterations=quick ? 200 : 2000, seed=0, progress_every=quick ? 100 : 500,
                      progress=p -> println("  dual training: ", p.iteration, " / ", p.total,
                                            "  objective ", round(p.objective; digits=4),
                                            "  E[M(V)] ", round(p.mean_compatibility; digits=3)))

    # Stand-in target score: the Gaussian with the roll's mean and covariance.
    μ = vec(sum(y_train; dims=2)) ./ n_train
    Σ = (y_train .- μ) * (y_train .- μ)' ./ (n_train - 1)
    s = gaussian_score(μ, Σ)

    sampler = Sampler(dual, s; steps=quick ? 100 : 1000, step_size=0.005, init=:source, seed=7)
    x = randn(MersenneTwister(3), 2, n_samples)
    y = sample(sampler, x)
    y_ref = swiss_roll(n_samples; rng=MersenneTwister(4))
    sw = sliced_w2(y, y_ref)
    println("sliced W2 to the Swiss roll: SCONES samples ", round(sw; digits=3),
            ", untransported sources ", round(sliced_w2(x, y_ref); digits=3))

    mkpath(outdir)
    fig = Figure(1200, 600; cols=2)
    scatter!(fig, 1, x; color=0x1f77b480)
    scatter!(fig, 1, y_train; color=0xff7f0e80)
    title!(fig, 1, "source N(0, I) and target Swiss roll")
    legend!(fig, 1, ["source x", "target"], [0x1f77b4ff, 0xff7f0eff])
    few = 1:40
    scatter!(fig, 2, y_train; color=0xff7f0e40)
    scatter!(fig, 2, y; color=0x2ca02c90)
    segments!(fig, 2, x[:, few], y[:, few]; color=0x00000090)
    scatter!(fig, 2, x[:, few]; color=0x1f77b4ff, radius=3.0)
    title!(fig, 2, "y ~ pi(y|x), Gaussian stand-in score: sliced W2 $(round(sw; digits=3))")
    legend!(fig, 2, ["samples", "x -> y"], [0x2ca02cff, 0x000000ff])
    println("wrote ", savepng(fig, joinpath(outdir, "swiss_roll_julia.png")))
end

main(ARGS)
