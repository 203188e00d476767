using Spectre.Console.Cli;
using Spectre.Console.Cli.Help;
using Spectre.Console.Rendering;

namespace MaskLab.Cli;

/// <summary>
/// Help for a verb with sub-commands (<c>sweep</c>, <c>train</c>): <c>masklab sweep --help</c>, and help asked for within
/// the verb's own form (<c>masklab sweep --config X --help</c>), list the options and examples of that form (the branch's
/// default command) above its sub-commands. The own form's examples come from here, not from WithExample: Spectre's
/// example check parses a branch's examples without its default command.
/// </summary>
public sealed class VerbHelp(ICommandAppSettings settings, IReadOnlyDictionary<string, string[][]> ownFormExamples) : HelpProvider(settings)
{
    public override IEnumerable<IRenderable> Write(ICommandModel model, ICommandInfo? command) =>
        base.Write(model, command is { IsDefaultCommand: true, Parent: { IsBranch: true } verb } ? verb : command);

    public override IEnumerable<IRenderable> GetOptions(ICommandModel model, ICommandInfo? command) =>
        base.GetOptions(model, command is { IsBranch: true, DefaultCommand: { } own } ? own : command);

    public override IEnumerable<IRenderable> GetExamples(ICommandModel model, ICommandInfo? command) =>
        base.GetExamples(model, command is { IsBranch: true } && ownFormExamples.TryGetValue(command.Name, out var own)
            ? new WithExamples(command, [.. own, .. command.Examples])
            : command);

    sealed class WithExamples(ICommandInfo command, IReadOnlyList<string[]> examples) : ICommandInfo
    {
        public string Name => command.Name;
        public string? Description => command.Description;
        public bool IsBranch => command.IsBranch;
        public bool IsDefaultCommand => command.IsDefaultCommand;
        public bool IsHidden => command.IsHidden;
        public IReadOnlyList<ICommandParameter> Parameters => command.Parameters;
        public ICommandInfo? Parent => command.Parent;
        public IReadOnlyList<string[]> Examples => examples;
        public IReadOnlyList<ICommandInfo> Commands => command.Commands;
        public ICommandInfo? DefaultCommand => command.DefaultCommand;
    }
}
