# Tests of the Julia binding against the real library:
#   SCONES_LIBRARY=/path/to/scones/target/release julia --project=bindings/julia/Scones -e 'using Pkg; Pkg.test()'
# A tiny d = 2 Gaussian transport trained and sampled through Scones.jl and checked against
# the closed-form coupling, errors arriving as SconesError, cancellation, column-major and
# transposed inputs, finalizers. (Julia cannot run on the project's CI machines: there
# scripts/check-julia-binding.py checks every ccall against include/scones.h instead.)
using Test
using Scones
using LinearAlgebra: transpose

@testset "Scones.jl" begin
    @test Scones.version() == Scones.LibScones.SCONES_VERSION_STRING

    d, λ = 2, 4.0
    A = random_covariance(d; seed=1)
    B = random_covariance(d; seed=2)
    x = gaussian_sample(zeros(d), A, 4000; seed=10)   # d × n: points are columns
    y = gaussian_sample(zeros(d), B, 4000; seed=11)
    x_eval = gaussian_sample(zeros(d), A, 1000; seed=12)
    @test size(x) == (d, 4000)

    @testset "errors are SconesError" begin
        e = try
            train_dual(x, y; lambda=-1.0)
        catch err
            err
        end
        @test e isa SconesError
        @test e.status === :invalid_argument
        @test e.code == Scones.LibScones.SCONES_STATUS_INVALID_ARGUMENT
        @test !isempty(e.message)
        @test_throws SconesError load_dual(joinpath(mktempdir(), "missing.safetensors"))
        @test_throws SconesError train_dual(x, y; regularizer=:no_such_regularizer)
    end

    @testset "tiny Gaussian transport" begin
        reports = Ref(0)
        # Targets passed as Float32 points-as-rows (a transpose): strided views, no copies.
        yrows = Matrix{Float32}(permutedims(y))
        dual = train_dual(x, transpose(yrows); regularizer=:kl, lambda=λ, hidden=[32, 32], batch_size=100,
                          iterations=300, seed=3, threads=1, progress=p -> (reports[] += 1; p.phase === :dual_training),
                          progress_every=100)
        @test reports[] == 3
        @test dims(dual) == (2, 2)
        @test problem(dual) == (regularizer=:kl, lambda=λ, cost=:sqeuclidean)
        @test train_report(dual).iterations == 300

        s = gaussian_score(zeros(d), B)
        @test dims(s) == d
        sampler = Sampler(dual, s; steps=150, step_size=0.05, metropolis=true, seed=7, threads=1)
        y_eval = sample(sampler, x_eval)
        @test size(y_eval) == (d, 1000)
        @test report(sampler).acceptance > 0.5
        bw = bw_uvp(joint_covariance(x_eval, y_eval), gaussian_entropic_coupling(A, B, λ))
        @info "tiny d = 2 transport" bw
        @test 0 <= bw < 3
        C = joint_covariance(y_eval, y_eval)[1:d, 1:d]
        @test maximum(abs.(C .- B)) < 0.15 * (B[1, 1] + B[2, 2])

        path = joinpath(mktempdir(), "dual.safetensors")
        save(dual, path)
        loaded = load_dual(path)
        @test potential(loaded, :phi, x_eval) == potential(dual, :phi, x_eval)
        @test_throws SconesError potential!(zeros(3), dual, :phi, x_eval)   # shape mismatch

        fig = Figure(400, 300; cols=2)
        scatter!(fig, 1, x_eval; color=0x1f77b480)
        scatter!(fig, 2, y_eval; color=0x2ca02c80)
        legend!(fig, 2, ["samples"], [0x2ca02cff])
        png = savepng(fig, joinpath(mktempdir(), "julia.png"))
        @test filesize(png) > 100

        close(dual)
        close(dual)   # closing twice is a no-op
        @test_throws SconesError dims(dual)
    end

    @testset "cancellation" begin
        e = try
            train_dual(x, y; hidden=[8], batch_size=16, iterations=100_000, progress=p -> p.iteration < 20,
                       progress_every=10)
        catch err
            err
        end
        @test e isa SconesError && e.status === :cancelled
        # An exception thrown by the progress function comes back as itself.
        @test_throws DomainError train_dual(x, y; hidden=[8], iterations=1000,
                                            progress=p -> throw(DomainError(p.iteration)), progress_every=5)
    end

    @testset "finalizers" begin
        for _ in 1:50
            gaussian_score(zeros(d), B)
            Figure(10, 10)
        end
        GC.gc()
        GC.gc()
        @test true
    end
end
