/** Specifications shared by the workflow unit tests. */
export const COLOUR_BOX_MODEL = { url: '/tests/fixtures/generated/colour-box-320.onnx' };

/** The seed's example: one ObjectDetectionModel step, every output of it. */
export function seedSpec(): Record<string, unknown> {
  return {
    version: '1.0',
    inputs: [{ type: 'WorkflowImage', name: 'image' }],
    steps: [{ type: 'ObjectDetectionModel', name: 'step_1', image: '$inputs.image', model_id: COLOUR_BOX_MODEL }],
    outputs: [{ type: 'JsonField', name: 'predictions', selector: '$steps.step_1.*' }],
  };
}

/** Detection → filter → ByteTrack → line counter → time in zone → visualisations, with parameters. */
export function fullSpec(): Record<string, unknown> {
  return {
    version: '1.0',
    inputs: [
      { type: 'InferenceImage', name: 'image' },
      { type: 'WorkflowVideoMetadata', name: 'video_metadata' },
      { type: 'WorkflowParameter', name: 'confidence', default_value: 0.5 },
      { type: 'InferenceParameter', name: 'classes', default_value: ['person', 'car', 'dog'] },
    ],
    steps: [
      { type: 'roboflow_core/roboflow_object_detection_model@v2', name: 'detect', images: '$inputs.image', model_id: COLOUR_BOX_MODEL, confidence: '$inputs.confidence' },
      {
        type: 'DetectionsFilter',
        name: 'filter',
        predictions: '$steps.detect.predictions',
        operations: [
          {
            type: 'DetectionsFilter',
            filter_operation: {
              type: 'StatementGroup',
              operator: 'and',
              statements: [
                {
                  type: 'BinaryStatement',
                  left_operand: { type: 'DynamicOperand', operand_name: '_', operations: [{ type: 'ExtractDetectionProperty', property_name: 'class_name' }] },
                  comparator: { type: 'in (Sequence)' },
                  right_operand: { type: 'DynamicOperand', operand_name: 'classes' },
                },
              ],
            },
          },
        ],
        operations_parameters: { classes: '$inputs.classes' },
      },
      { type: 'roboflow_core/byte_tracker@v3', name: 'tracker', image: '$inputs.image', detections: '$steps.filter.predictions' },
      {
        type: 'roboflow_core/line_counter@v2',
        name: 'counter',
        image: '$inputs.image',
        detections: '$steps.tracker.tracked_detections',
        line_segment: [
          [200, 0],
          [200, 360],
        ],
        triggering_anchor: 'CENTER',
      },
      {
        type: 'roboflow_core/time_in_zone@v3',
        name: 'zone_time',
        image: '$inputs.image',
        detections: '$steps.tracker.tracked_detections',
        zone: [
          [200, 0],
          [640, 0],
          [640, 360],
          [200, 360],
        ],
      },
      { type: 'PropertyDefinition', name: 'count', data: '$steps.tracker.tracked_detections', operations: [{ type: 'SequenceLength' }] },
      { type: 'BoundingBoxVisualization', name: 'boxes', image: '$inputs.image', predictions: '$steps.tracker.tracked_detections' },
      { type: 'LabelVisualization', name: 'labels', image: '$steps.boxes.image', predictions: '$steps.zone_time.timed_detections', text: 'Time In Zone' },
      {
        type: 'roboflow_core/line_counter_visualization@v1',
        name: 'line',
        image: '$steps.labels.image',
        zone: [
          [200, 0],
          [200, 360],
        ],
        count_in: '$steps.counter.count_in',
        count_out: '$steps.counter.count_out',
      },
    ],
    outputs: [
      { type: 'JsonField', name: 'tracked', selector: '$steps.tracker.tracked_detections' },
      { type: 'JsonField', name: 'count_in', selector: '$steps.counter.count_in' },
      { type: 'JsonField', name: 'count_out', selector: '$steps.counter.count_out' },
      { type: 'JsonField', name: 'timed', selector: '$steps.zone_time.timed_detections', coordinates_system: 'parent' },
      { type: 'JsonField', name: 'count', selector: '$steps.count.output' },
      { type: 'JsonField', name: 'image', selector: '$steps.line.image' },
    ],
  };
}

/** Detection → dynamic crop → detection on each crop → filter and boxes on the crops; outputs in own and parent coordinates. */
export function cropSpec(): Record<string, unknown> {
  return {
    version: '1.0',
    inputs: [
      { type: 'WorkflowImage', name: 'image' },
      { type: 'WorkflowParameter', name: 'confidence', default_value: 0.5 },
    ],
    steps: [
      { type: 'ObjectDetectionModel', name: 'detect', image: '$inputs.image', model_id: COLOUR_BOX_MODEL },
      { type: 'roboflow_core/dynamic_crop@v1', name: 'crop', images: '$inputs.image', predictions: '$steps.detect.predictions' },
      { type: 'ObjectDetectionModel', name: 'detect2', images: '$steps.crop.crops', model_id: COLOUR_BOX_MODEL, confidence: '$inputs.confidence' },
      { type: 'DetectionsFilter', name: 'filter2', predictions: '$steps.detect2.predictions', operations: [{ type: 'SequenceLength' }] },
      { type: 'BoundingBoxVisualization', name: 'boxes2', image: '$steps.crop.crops', predictions: '$steps.detect2.predictions' },
    ],
    outputs: [
      { type: 'JsonField', name: 'own', selector: '$steps.detect2.predictions' },
      { type: 'JsonField', name: 'parent', selector: '$steps.detect2.predictions', coordinates_system: 'parent' },
      { type: 'JsonField', name: 'crops', selector: '$steps.boxes2.image' },
    ],
  };
}
