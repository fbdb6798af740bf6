import { describe, expect, it } from "vitest";
import { readMlmodel } from "./mlmodel.js";

// The MLmodel MLflow 2.12 writes for `mlflow.sklearn.log_model(model, "model", input_example=X[:2])` with a numpy X.
const TENSOR = `artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.11.2
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.2.1
mlflow_version: 2.12.2.dev0
signature:
  inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 2]}}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
  params: null
`;

describe("readMlmodel", () => {
  it("reads the flavor, a tensor signature and the pyfunc loader", () => {
    const info = readMlmodel(TENSOR, "m");
    expect(info).toMatchObject({ format: "mlflow/sklearn", flavors: ["python_function", "sklearn"], onnxFile: null });
    expect(info.loaderModule).toBe("mlflow.sklearn");
    expect(info.inputs).toEqual([{ name: "input-0", type: "float64", shape: [null, 2] }]);
    expect(info.serving).toMatchObject({
      task: "multiclass_classification",
      features: [
        { name: "f0", type: "numeric" },
        { name: "f1", type: "numeric" },
      ],
    });
  });

  it("reads column signatures in order, float outputs as a regressor, and params", () => {
    const info = readMlmodel(
      `flavors: {python_function: {loader_module: mlflow.pyfunc.model}}
signature:
  inputs: '[{"type": "double", "name": "age"}, {"type": "string", "name": "city"}]'
  outputs: '[{"type": "double"}]'
  params: '[{"name": "k", "type": "long", "default": 3, "shape": null}]'
`,
      "m",
    );
    expect(info.format).toBe("mlflow/python_function");
    expect(info.inputs.map((t) => [t.name, t.type])).toEqual([
      ["age", "float64"],
      ["city", "string"],
    ]);
    expect(info.serving?.task).toBe("regression");
    expect(info.serving?.features).toEqual([
      { name: "age", type: "numeric" },
      { name: "city", type: "categorical" },
    ]);
    expect(info.params).toEqual([{ name: "k", type: "long", default: 3 }]);
  });

  it("names the onnx flavor's file, and has no serving signature without one", () => {
    const info = readMlmodel("flavors:\n  onnx: {data: model.onnx, onnx_version: 1.15.0}\n", "m");
    expect(info).toMatchObject({ format: "mlflow/onnx", onnxFile: "model.onnx", serving: null });
  });

  it("refuses what is not an MLmodel with a message naming the file and field", () => {
    expect(() => readMlmodel("flavors: [", "artifact 1a2b")).toThrow(/artifact 1a2b\/MLmodel is not valid YAML/);
    expect(() => readMlmodel("a: 1\n", "x")).toThrow(/x\/MLmodel: field "flavors"/);
    expect(() => readMlmodel("flavors: {onnx: {}}\n", "x")).toThrow(/onnx flavor needs "data"/);
    expect(() => readMlmodel("flavors: {sklearn: {}}\nsignature: {inputs: '[{'}\n", "x")).toThrow(
      /x\/MLmodel signature.inputs is not valid JSON/,
    );
  });
});
