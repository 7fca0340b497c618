# Tests of the Julia binding against the real library:
#   SCONES_LIBRARY=/path/to/scones/target/release julia --project=bindings/julia/Scones -e 'using Pkg; Pkg.test()'
# A tiny d = 2 Gaussian transport trained and sampled through Scones.jl and checked against
# the closed-form coupling, errors arriving as SconesError, cancellation, column-major and
# transposed inputs, finalizers; measures (points and host samplers), empirical / host-function /
# trained / TorchScript scores, barycentric maps, toy data, per-sampler progress and shape; the
# discrete solvers (Sinkhorn, IPOT, f-divergence dual, assignment); SPOT (ABI 0.3). (Julia cannot run on the project's CI machines: there
# scripts/check-julia-binding.py checks every ccall against include/scones.h instead.)
using Test
using Scones
using LinearAlgebra: transpose
using Random

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

    @testset "linear cost between dimensions" begin
        # |A y - B x|² with a 1-d source and a 2-d target; A averages y.
        xs, ys = randn(1, 300), randn(2, 300)
        A, Bm = [0.5 0.5], fill(1.0, 1, 1)
        dual = train_dual(xs, ys; linear_cost=(A, Bm), hidden=[8], batch_size=32, iterations=20, threads=1)
        @test dims(dual) == (1, 2)
        @test problem(dual).cost === :linear
        path = joinpath(mktempdir(), "linear.scones")
        save(dual, path)
        back = load_dual(path)
        @test problem(back).cost === :linear
        @test compatibility(back, xs[:, 1:8], ys[:, 1:8]) == compatibility(dual, xs[:, 1:8], ys[:, 1:8])
        @test_throws SconesError train_dual(xs, ys; linear_cost=([1.0 0.0; 0.0 1.0], Bm))
        @test_throws SconesError train_dual(xs, ys; linear_cost=([NaN 1.0], Bm))
        @test_throws SconesError SpotOptions(; linear_cost=([0.0 0.0], Bm))
        y8 = sample(Sampler(back, gaussian_score(zeros(2), [1.0 0.0; 0.0 1.0]); steps=20, step_size=0.05, threads=1),
                    xs[:, 1:8])
        @test size(y8) == (2, 8) && all(isfinite, y8)
    end

    @testset "external costs" begin
        xs, ys = randn(2, 300), randn(2, 300)
        calls = Ref(0)
        function sq!(values, grad_y, x, y)
            calls[] += 1
            values .= vec(sum(abs2, y .- x; dims=1))
            grad_y === nothing || (grad_y .= 2 .* (y .- x))
            return nothing
        end
        kw = (hidden=[16], batch_size=64, iterations=50, seed=4, threads=1)
        builtin = train_dual(xs, ys; kw...)
        hosted = train_dual(xs, ys; cost_callback=(sq!, 2, 2), kw...)
        @test problem(hosted).cost === :callback
        @test calls[] > 0
        @test maximum(abs.(compatibility(builtin, xs[:, 1:8], ys[:, 1:8]) .-
                           compatibility(hosted, xs[:, 1:8], ys[:, 1:8]))) < 1e-4
        sampler = Sampler(hosted, gaussian_score(zeros(2), [1.0 0.0; 0.0 1.0]); steps=10, step_size=0.05, threads=1)
        @test all(isfinite, sample(sampler, xs[:, 1:8]))
        @test_throws SconesError save(hosted, joinpath(mktempdir(), "callback.scones"))
        @test_throws ErrorException train_dual(xs, ys; cost_callback=((v, g, x, y) -> error("cost broke"), 2, 2), kw...)
        module_path = joinpath(@__DIR__, "..", "..", "..", "..", "tests", "fixtures", "cost_softplus.pt")
        ts = train_dual(xs, ys; torchscript_cost=(module_path, 2, 2, 4.0), kw...)
        path = joinpath(mktempdir(), "torchscript.scones")
        save(ts, path)
        back = load_dual(path)
        @test problem(back).cost === :torchscript
        @test compatibility(back, xs[:, 1:8], ys[:, 1:8]) == compatibility(ts, xs[:, 1:8], ys[:, 1:8])
    end

    @testset "collective (one rank)" begin
        # With one rank the sum over the group is the buffer itself: count the calls (one per
        # iteration, a handshake before and a closing call after). MPI.jl runs more ranks.
        xs, ys = randn(2, 64), randn(2, 64)
        calls = Ref(0)
        kw = (hidden=[8], batch_size=16, batch_mode=:paired, iterations=7, seed=4, threads=1)
        d = train_dual(xs, ys; collective=(0, 1, buf -> (calls[] += 1; nothing)), kw...)
        @test calls[] == 7 + 2
        @test all(isfinite, potential(d, :phi, xs[:, 1:4]))
        @test_throws DomainError train_dual(xs, ys; collective=(0, 1, buf -> throw(DomainError(length(buf)))), kw...)
        @test_throws SconesError train_dual(xs, ys; collective=(1, 1, buf -> nothing), kw...)
        s = train_score(ys; hidden=[8], batch_size=16, iterations=5, collective=(0, 1, buf -> nothing))
        @test all(isfinite, score(s, ys[:, 1:4], 0.5))
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

    @testset "toy data, measures, scores, barycentric maps" begin
        g = toy_sample(:gaussian, 500; seed=1)
        roll = toy_sample(:swiss_roll, 500; seed=2)
        @test size(g) == (2, 500) && size(roll) == (2, 500)
        @test toy_sample(:swiss_roll, 500; seed=2) == roll            # seeded
        @test abs(sum(g) / length(g)) < 0.15                           # N(0, I)
        @test_throws SconesError toy_sample(:no_such_toy, 10)

        # A host sampler measure: N(0, I) drawn in Julia from the run's seed; out is d × m.
        calls = Ref(0)
        src = Measure(2) do out, seed
            calls[] += 1
            out .= randn(Random.MersenneTwister(seed), size(out)...)
        end
        tgt = Measure(roll)
        dual = train_dual(src, tgt; lambda=2.0, hidden=[16], batch_size=32, iterations=20, seed=1, threads=1)
        @test calls[] >= 20
        @test dims(dual) == (2, 2)

        # A host measure that throws: its exception comes back as itself.
        bad = Measure((out, seed) -> throw(ArgumentError("no points today")), 2)
        @test_throws ArgumentError train_dual(bad, tgt; hidden=[8], batch_size=8, iterations=5)

        # The empirical score of the roll, and a host-function score of N(0, I): s(y) = -y / (1 + σ²).
        emp = empirical_score(roll; bandwidth=0.1)
        @test dims(emp) == 2
        @test size(score(emp, g[:, 1:10], 0.5)) == (2, 10)
        unit = Score(2) do out, y, σ
            out .= -y ./ (1 + σ^2)
        end
        @test isapprox(score(unit, g[:, 1:5]), -g[:, 1:5]; atol=1e-5)   # float32 inside
        # compatibility = false samples the target score alone: here N(0, I). (No Metropolis
        # adjustment: a host score has no log-density.)
        sampler = Sampler(dual, unit; compatibility=false, steps=200, step_size=0.05, samples_per_source=2,
                          seed=3, threads=1)
        @test shape(sampler) == (2, 2, 2)
        ys = sample(sampler, g[:, 1:200])
        @test size(ys) == (2, 400)
        @test all(abs.(sum(ys; dims=2) ./ 400) .< 0.25)
        @test 0.6 < sum(abs2, ys) / length(ys) < 1.5
        failing = Score((out, y, σ) -> error("score failed"), 2)
        @test_throws ErrorException score(failing, g[:, 1:3])
        @test_throws ErrorException sample(Sampler(dual, failing; steps=2, threads=1), g[:, 1:3])

        # Per-call cancellation through set_progress!.
        set_progress!(sampler, p -> p.iteration < 50; every=10)
        e = try
            sample(sampler, g[:, 1:10])
        catch err
            err
        end
        @test e isa SconesError && e.status === :cancelled
        set_progress!(sampler, nothing)
        @test size(sample(sampler, g[:, 1:10])) == (2, 20)

        # A barycentric map, callable, saved and loaded, and used as the chains' start.
        T = train_barycentric(dual, g, roll; hidden=[16], batch_size=32, iterations=20, seed=1, threads=1)
        @test dims(T) == (2, 2)
        tx = T(g[:, 1:7])
        @test size(tx) == (2, 7)
        dir = mktempdir()
        save(T, joinpath(dir, "T.safetensors"))
        @test load_barycentric(joinpath(dir, "T.safetensors"))(g[:, 1:7]) == tx
        s2 = Sampler(dual, emp; init_map=T, steps=10, step_size=1e-4, metropolis=true, adapt_step=true, seed=1,
                     threads=1)
        @test size(sample(s2, g[:, 1:7])) == (2, 7)

        # A trained score network, saved and loaded; only trained scores can be saved.
        net = train_score(roll; hidden=[16], batch_size=32, iterations=20, noise_levels=(1.0, 0.05, 3), seed=1, threads=1)
        save(net, joinpath(dir, "score.safetensors"))
        @test score(load_score(joinpath(dir, "score.safetensors")), g[:, 1:4], 0.1) == score(net, g[:, 1:4], 0.1)
        @test_throws SconesError save(emp, joinpath(dir, "emp.safetensors"))

        # The TorchScript fixture of the repository (forward(y, sigma) -> Tensor[n, d]).
        fixture = joinpath(@__DIR__, "..", "..", "..", "..", "tests", "fixtures", "score_module.pt")
        if isfile(fixture)
            ts = torchscript_score(fixture, 2)
            @test dims(ts) == 2
            @test size(score(ts, g[:, 1:3], 0.1)) == (2, 3)
        end
        @test_throws SconesError torchscript_score(joinpath(dir, "missing.pt"), 2)
        for h in (src, tgt, emp, unit, T, net)
            close(h)
            close(h)
        end
    end

    @testset "discrete OT" begin
        # 6 + 6 deterministic points in the unit square, as columns.
        n = 6
        s = UInt32(12345)
        pts = zeros(2, 2n)
        for k in eachindex(pts)
            s = s * UInt32(1103515245) + UInt32(12345)
            pts[k] = ((s >> 8) & 0xFFFF) / 65536
        end
        xs, ys = pts[:, 1:n], pts[:, n+1:end]
        Cm = [sum(abs2, xs[:, i] .- ys[:, j]) for i in 1:n, j in 1:n]
        a = assignment(Cm)
        opt = a.total_cost / n
        @test sort(a.assignment) == 1:n
        @test sum(a.u) + sum(a.v) ≈ a.total_cost atol = 1e-12
        @test all(a.u[i] + a.v[j] <= Cm[i, j] + 1e-12 for i in 1:n, j in 1:n)

        reports = Ref(0)
        sk = sinkhorn(xs, ys, 1e-6 * maximum(Cm); tolerance=1e-9, progress=p -> (reports[] += 1; true), progress_every=5)
        @test sk.report isa DiscreteReport
        @test sk.report.converged
        @test isapprox(sk.report.transport_cost, opt; rtol=1e-5)
        @test reports[] > 0
        @test size(sk.plan) == (n, n) && length(sk.f) == n && length(sk.g) == n
        @test all(abs(sk.plan[i, a.assignment[i]] - 1 / n) < 1e-5 for i in 1:n)
        @test sinkhorn(xs, ys, 0.1; plan=false).plan === nothing

        ip = ipot(xs, ys; beta=0.002, inner_iterations=1, max_iterations=2000)
        @test isapprox(ip.report.transport_cost, opt; rtol=1e-5)
        @test ip.report.marginal_error < 1e-8
        # Points as rows (a transpose) give the same plan.
        @test ipot(transpose(Matrix(transpose(xs))), ys; beta=0.002, max_iterations=2000).plan ≈ ip.plan

        fd = discrete_fdual(xs, ys, 0.05; regularizer=:kl, source_weights=fill(Float32(1 / n), n))
        @test fd.report.converged
        @test maximum(abs.(vec(sum(fd.plan; dims=2)) .- 1 / n)) < 1e-6
        @test maximum(abs.(vec(sum(fd.plan; dims=1)) .- 1 / n)) < 1e-6

        # The dense cost-matrix forms (ABI 0.2) on Cm (rows: the points of xs) agree with the
        # point-set forms; the discrete solvers report under :discrete with marginal_error.
        phases = Symbol[]
        skc = sinkhorn_cost(Cm, 1e-6 * maximum(Cm); tolerance=1e-9,
                            progress=p -> (push!(phases, p.phase); @test p.marginal_error >= 0; true))
        @test maximum(abs.(skc.plan .- sk.plan)) < 1e-10 && maximum(abs.(skc.f .- sk.f)) < 1e-10
        @test !isempty(phases) && all(==(:discrete), phases)
        @test ipot_cost(Cm; beta=0.002, inner_iterations=1, max_iterations=2000).plan ≈ ip.plan atol = 1e-10
        fdc = discrete_fdual_cost(Cm, 0.05; regularizer=:kl, source_weights=fill(Float32(1 / n), n))
        @test maximum(abs.(fdc.plan .- fd.plan)) < 1e-10
        @test_throws SconesError sinkhorn_cost(Cm, 0.1; source_weights=fill(1 / (n + 1), n + 1))
        @test_throws SconesError ipot_cost(fill(-Inf, n, n))

        e = try
            sinkhorn(xs, ys, 0.0)
        catch err
            err
        end
        @test e isa SconesError && e.status === :invalid_argument && !isempty(e.message)
        @test_throws SconesError discrete_fdual(xs, ys, -1.0; regularizer=:gan)
        @test_throws SconesError discrete_fdual(xs, ys, 0.1; regularizer=:no_such_regularizer)
        e = try
            ipot(xs, zeros(3, n))
        catch err
            err
        end
        @test e isa SconesError && e.status === :shape_mismatch
        @test_throws SconesError assignment(zeros(3, 4))
        @test_throws SconesError sinkhorn(xs, ys, 0.1; tolerance=0.0)

        # Cancellation by the progress function, and an exception from it rethrown as itself.
        calls = Ref(0)
        stop = p -> (calls[] += 1) < 2
        for solve in (() -> sinkhorn(xs, ys, 1e-3; progress=stop, progress_every=1),
                      () -> ipot(xs, ys; progress=stop, progress_every=1),
                      () -> discrete_fdual(xs, ys, 1e-3; regularizer=:chi_square, progress=stop, progress_every=1))
            calls[] = 0
            e = try
                solve()
            catch err
                err
            end
            @test e isa SconesError && e.status === :cancelled
            @test calls[] == 2
        end
        @test_throws ArgumentError sinkhorn(xs, ys, 1e-3; progress=p -> throw(ArgumentError("from progress")),
                                            progress_every=1)
    end

    # W1 between N((-2.5, 0), I) and N((2.5, 0), I) is 5 under |x - y|: 300 iterations of 16-16
    # networks leave a training error under 1 (the doc example of api::Spot); the estimate's
    # standard error at 10,000 draws is ~0.02.
    @testset "SPOT" begin
        I2 = [1.0 0.0; 0.0 1.0]
        xs = gaussian_sample([-2.5, 0.0], I2, 4000; seed=1)
        ys = gaussian_sample([2.5, 0.0], I2, 4000; seed=2)
        phases = Symbol[]
        plan = train_spot(xs, ys; cost=:euclidean, hidden_generator=[16, 16], hidden_critic=[16, 16], batch_size=256,
                          iterations=300, progress=p -> (push!(phases, p.phase); true), progress_every=100)
        @test phases == [:spot_training, :spot_training, :spot_training]
        @test dims(plan) == [2, 2]
        w1 = cost_estimate(plan, 10_000; seed=3)
        @info "SPOT W1" w1
        @test abs(w1.estimate - 5) < 1 && 0 < w1.standard_error < 0.1
        pairs = sample(plan, 10_000; seed=3)   # columns i of both matrices: one latent draw
        @test length(pairs) == 2 && size(pairs[1]) == (2, 10_000)
        mean_cost = sum(sqrt.(vec(sum(abs2, pairs[1] .- pairs[2]; dims=1)))) / 10_000
        @test abs(mean_cost - w1.estimate) < 1e-4
        first50 = sample(plan, 50; seed=3)
        @test sample(plan, 50; seed=3) == first50 && sample(plan, 50; seed=4) != first50
        # Float32 and transposed-layout outputs through sample!.
        a, b = Matrix{Float32}(undef, 2, 50), Matrix{Float64}(undef, 2, 50)
        sample!([a, b], plan; seed=3)
        @test Float64.(a) == first50[1] && b == first50[2]
        @test train_report(plan).iterations == 300
        path = joinpath(mktempdir(), "plan.scones")
        save(plan, path)
        loaded = load_spot(path)
        @test sample(loaded, 50; seed=3) == first50
        @test_throws SconesError train_report(loaded)
        @test_throws SconesError cost_estimate(plan, 1)
        # Three marginals from a matrix, a Measure and a host sampler; options built once.
        opts = SpotOptions(; preset=:thesis, hidden_generator=[8], hidden_critic=[8], batch_size=64, iterations=20)
        host = Measure((out, seed) -> (out .= randn(MersenneTwister(seed), size(out)...)), 2)
        three = train_spot([xs, Measure(ys), host]; options=opts)
        @test dims(three) == [2, 2, 2]
        @test isfinite(cost_estimate(three, 100).estimate)
        close(opts)
        entropic = train_spot(xs, ys; hidden_generator=[8], hidden_critic=[8], batch_size=64, iterations=10,
                              entropy=(0.5, 4))
        @test size(sample(entropic, 20)[1]) == (2, 20)
        @test_throws SconesError SpotOptions(; entropy=(-1.0, 4))
        e = try
            train_spot(xs, ys; iterations=1000, progress=p -> p.iteration < 10, progress_every=5)
        catch err
            err
        end
        @test e isa SconesError && e.status === :cancelled
        # The Langevin sampler refuses a dual trained with |x - y|.
        dual = train_dual(xs, ys; cost=:euclidean, hidden=[8], batch_size=32, iterations=5)
        @test problem(dual).cost === :euclidean
        e = try
            Sampler(dual, gaussian_score([2.5, 0.0], I2))
        catch err
            err
        end
        @test e isa SconesError && e.status === :invalid_argument && occursin("euclidean", e.message)
    end

    @testset "finalizers" begin
        for _ in 1:50
            gaussian_score(zeros(d), B)
            Figure(10, 10)
            Measure(zeros(2, 3))
            Score((out, y, σ) -> (out .= 0), 2)
        end
        GC.gc()
        GC.gc()
        @test true
    end
end
