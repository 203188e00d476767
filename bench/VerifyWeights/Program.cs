// Loads the torchvision state_dicts that bench/verify_weights.py wrote into MaskLab's models with
// Pretrained.Load and compares their outputs with torchvision's on the same input.
// Usage: VerifyWeights DIR   (exit 0 when every relative error is under the tolerance)
using System.Diagnostics;
using System.Globalization;
using MaskLab.Models;
using MaskLab.Platform;
using TorchSharp;
using static TorchSharp.torch;

const double Tolerance = 1e-4;
NativeSetup.Initialize();
if (args.Length != 1 || !Directory.Exists(args[0]))
{
    Console.Error.WriteLine("usage: VerifyWeights DIR (the folder verify_weights.py wrote)");
    return 2;
}

var dir = args[0];
var names = new[] { "resnet18", "vgg11", "googlenet", "efficientnet_b0" };
var failures = 0;
var rows = 0;
Console.WriteLine($"{"model",-16} {"format",-12} {"tensors",7} {"rel. L2 error",14} {"max abs diff",13} {"max |ref|",10} {"unloaded",9} {"load s",7}  result");
foreach (var name in names)
{
    var ioFile = Path.Combine(dir, name + ".io.pt");
    if (!File.Exists(ioFile)) { Console.WriteLine($"{name}: {ioFile} missing"); failures++; continue; }
    var io = Pretrained.Read(ioFile);
    var input = io["input"];
    var reference = io["output"];
    // The same architecture with its own random weights: how far off a load that did nothing would be.
    float unloaded;
    using (var fresh = ModelRegistry.Create(name, new ModelSpec(1000, (int)input.shape[3], (int)input.shape[2])))
    using (no_grad())
    {
        fresh.eval();
        unloaded = ((fresh.call(input) - reference).norm() / reference.norm()).item<float>();
    }
    foreach (var ext in new[] { ".pth", ".safetensors" })
    {
        var file = Path.Combine(dir, name + ext);
        if (!File.Exists(file)) continue;
        using var scope = NewDisposeScope();
        using var model = ModelRegistry.Create(name, new ModelSpec(1000, (int)input.shape[3], (int)input.shape[2]));
        model.eval();
        var sw = Stopwatch.StartNew();
        var report = Pretrained.Load(model, file, 1000);
        var loadSeconds = sw.Elapsed.TotalSeconds;
        Tensor output;
        using (no_grad()) output = model.call(input);
        var diff = output - reference;
        var rel = (diff.norm() / reference.norm()).item<float>();
        var maxAbs = diff.abs().max().item<float>();
        var maxRef = reference.abs().max().item<float>();
        var ok = rel < Tolerance && report.SkippedClassifier.Count == 0 && report.Ignored.Count == 0;
        if (!ok) failures++;
        rows++;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-16} {ext,-12} {report.Loaded,7} {rel,14:0.00E+00} {maxAbs,13:0.00E+00} {maxRef,10:F3} {unloaded,9:F2} {loadSeconds,7:F2}  {(ok ? "ok" : "FAIL")}"));
    }
}
Console.WriteLine(failures == 0 && rows > 0
    ? $"all {rows} loads match torchvision within a relative L2 error of {Tolerance:0E+0}"
    : $"{failures} failure(s) in {rows} loads");
return failures == 0 && rows > 0 ? 0 : 1;
