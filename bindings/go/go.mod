module example.invalid/liblm/go/lm

go 1.19
