using System.Diagnostics;
using System.Reflection;
using MaskLab.Platform;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace MaskLab.Tests;

/// <summary>
/// Runs this assembly's tests in-process through xunit's own discovery and execution, for machines without the
/// .NET SDK: the GPU kit publishes the tests self-contained and runs <c>MaskLab.Tests --trait Category=Cuda</c>.
/// <c>dotnet test</c> does not use this entry point.
/// </summary>
/// <remarks>Usage: <c>MaskLab.Tests [--trait NAME=VALUE]... [--filter TEXT]... [--list]</c>; a test runs when it has
/// every trait given and its name contains one of the filters (if any). The last line is "N passed, N failed, N skipped";
/// the exit code is 1 when a test failed, 2 when no libtorch could be loaded.</remarks>
public static class TestRunner
{
    public static int Main(string[] args)
    {
        var traits = new List<(string Name, string Value)>();
        var filters = new List<string>();
        bool list = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--trait" when i + 1 < args.Length && args[i + 1].Split('=', 2) is [var name, var value]:
                    traits.Add((name, value)); i++; break;
                case "--filter" when i + 1 < args.Length:
                    filters.Add(args[++i]); break;
                case "--list":
                    list = true; break;
                default:
                    Console.Error.WriteLine($"MaskLab.Tests: unknown argument '{args[i]}'; use [--trait NAME=VALUE]... [--filter TEXT]... [--list]");
                    return 2;
            }
        }

        try { Console.WriteLine($"libtorch: {LibTorchRuntime.Load().Describe()}"); }
        catch (MaskLabInputException e)
        {
            Console.Error.WriteLine($"MaskLab.Tests: {e.Message}");
            return 2;
        }

        var assembly = typeof(TestRunner).Assembly;
        var diagnostics = new DiagnosticSink();
        using var framework = new XunitTestFramework(diagnostics);
        var options = new RunnerOptions();
        options.SetValue("xunit.execution.DisableParallelization", (bool?)true);

        var discovery = new DiscoverySink();
        using (var discoverer = framework.GetDiscoverer(Reflector.Wrap(assembly)))
        {
            discoverer.Find(false, discovery, options);
            discovery.Done.WaitOne();
        }
        var cases = discovery.Cases.Where(c => Selected(c, traits, filters)).ToList();
        if (list)
        {
            foreach (var c in cases) Console.WriteLine(c.DisplayName);
            Console.WriteLine($"{cases.Count} tests");
            return 0;
        }

        var execution = new ExecutionSink();
        var clock = Stopwatch.StartNew();
        using (var executor = framework.GetExecutor(assembly.GetName()))
        {
            executor.RunTests(cases, execution, options);
            execution.Done.WaitOne();
        }
        Console.WriteLine($"time: {clock.Elapsed.TotalSeconds:F1} s");
        Console.WriteLine($"{execution.Passed} passed, {execution.Failed} failed, {execution.Skipped} skipped");
        return execution.Failed > 0 || execution.Errors > 0 ? 1 : 0;
    }

    static bool Selected(ITestCase c, List<(string Name, string Value)> traits, List<string> filters)
    {
        foreach (var (name, value) in traits)
            if (!c.Traits.TryGetValue(name, out var values) || !values.Contains(value, StringComparer.OrdinalIgnoreCase)) return false;
        if (filters.Count == 0) return true;
        var fullName = $"{c.TestMethod.TestClass.Class.Name}.{c.TestMethod.Method.Name}";
        return filters.Any(f => fullName.Contains(f, StringComparison.OrdinalIgnoreCase) || c.DisplayName.Contains(f, StringComparison.OrdinalIgnoreCase));
    }

    sealed class RunnerOptions : ITestFrameworkDiscoveryOptions, ITestFrameworkExecutionOptions
    {
        readonly Dictionary<string, object?> _values = new(StringComparer.Ordinal);
        public TValue GetValue<TValue>(string name) => _values.TryGetValue(name, out var v) && v is TValue t ? t : default!;
        public void SetValue<TValue>(string name, TValue value) => _values[name] = value;
    }

    sealed class DiagnosticSink : LongLivedMarshalByRefObject, IMessageSink
    {
        public bool OnMessage(IMessageSinkMessage message)
        {
            if (message is IDiagnosticMessage d) Console.Error.WriteLine($"xunit: {d.Message}");
            return true;
        }
    }

    sealed class DiscoverySink : LongLivedMarshalByRefObject, IMessageSink
    {
        public readonly List<ITestCase> Cases = [];
        public readonly ManualResetEvent Done = new(false);

        public bool OnMessage(IMessageSinkMessage message)
        {
            if (message is ITestCaseDiscoveryMessage found) Cases.Add(found.TestCase);
            else if (message is IDiscoveryCompleteMessage) Done.Set();
            return true;
        }
    }

    sealed class ExecutionSink : LongLivedMarshalByRefObject, IMessageSink
    {
        public readonly ManualResetEvent Done = new(false);
        public int Passed, Failed, Skipped, Errors;

        public bool OnMessage(IMessageSinkMessage message)
        {
            switch (message)
            {
                case ITestPassed p:
                    Passed++;
                    Console.WriteLine($"PASS {p.Test.DisplayName} ({p.ExecutionTime:F2} s)");
                    break;
                case ITestFailed f:
                    Failed++;
                    Console.WriteLine($"FAIL {f.Test.DisplayName} ({f.ExecutionTime:F2} s)");
                    for (int i = 0; i < f.Messages.Length; i++)
                    {
                        Console.WriteLine($"  {f.ExceptionTypes.ElementAtOrDefault(i)}: {f.Messages[i]}");
                        if (f.StackTraces.ElementAtOrDefault(i) is { } stack) Console.WriteLine(Indent(stack));
                    }
                    if (!string.IsNullOrEmpty(f.Output)) Console.WriteLine(Indent(f.Output));
                    break;
                case ITestSkipped s:
                    Skipped++;
                    Console.WriteLine($"SKIP {s.Test.DisplayName}: {s.Reason}");
                    break;
                case IErrorMessage e:
                    Errors++;
                    Console.WriteLine($"ERROR {string.Join("; ", e.Messages)}");
                    break;
                case ITestClassCleanupFailure or ITestCollectionCleanupFailure or ITestCaseCleanupFailure or ITestCleanupFailure:
                    Errors++;
                    var failure = (IFailureInformation)message;
                    Console.WriteLine($"ERROR in cleanup: {string.Join("; ", failure.Messages)}");
                    break;
                case ITestAssemblyFinished:
                    Done.Set();
                    break;
            }
            return true;
        }

        static string Indent(string text) => string.Join('\n', text.Split('\n').Select(l => "    " + l.TrimEnd('\r')));
    }
}
