module scones.dev/examples

go 1.19

require scones.dev/scones v0.0.0

replace scones.dev/scones => ../../bindings/go
