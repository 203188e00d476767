using MaskLab.Platform;
using static TorchSharp.torch;
NativeSetup.Initialize();
var x = randn(2, 3);
Console.WriteLine($"{x.sum().item<float>()} threads={get_num_threads()}");
