module scones.dev/scones

go 1.19
