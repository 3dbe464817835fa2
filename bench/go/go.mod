module gompbench

go 1.21
